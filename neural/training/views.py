from __future__ import annotations

import orjson
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.api.converters import MAX_ID
from neural.api.params import int_param
from neural.datasets.selectors import dataset_get
from neural.errors import DataError, named_in_body
from neural.registry.selectors import model_version_resolve
from neural.training import reports, series
from neural.training.ensembles import ensemble_preset_start
from neural.training.runs import file_models, training_file_from_request, training_run_start
from neural.training.search_control import can_cancel, tuning_job_cancel
from neural.training.selectors import (
    epoch_rows_after,
    run_get,
    run_list,
    session_list,
    session_resolve,
    tuning_job_get,
    tuning_job_list,
)
from neural.training.serializers import (
    EpochMetricSerializer,
    RunDetailSerializer,
    RunRequestSerializer,
    RunSerializer,
    SearchRequestSerializer,
    SearchSerializer,
    SessionAnnotateSerializer,
    SessionLogSerializer,
    SessionLogsSerializer,
    SessionSerializer,
    SessionStatusSerializer,
    TrainRequestSerializer,
)
from neural.training.services import (
    training_config_build,
    training_session_annotate,
    training_session_create,
    training_session_stop,
)
from neural.training.tuning import tuning_job_create, tuning_report


class TrainView(generics.ListAPIView):
    """POST starts a training session (202 at once); GET lists sessions (?status=, ?model_name=)."""

    serializer_class = SessionSerializer

    def get_queryset(self):
        return session_list(
            status=self.request.query_params.get("status"), model_name=self.request.query_params.get("model_name")
        )

    @extend_schema(request=TrainRequestSerializer, responses={202: SessionSerializer})
    def post(self, request):
        body = TrainRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with named_in_body("training_data"):
            dataset = dataset_get(ref=data["training_data"])
        if data["config"].get("preset") == "best":
            return self._best(request, data, dataset)
        config = training_config_build(epochs=data.get("epochs"), options=data["config"], from_request=True)
        session = training_session_create(
            user=request.user,
            dataset=dataset,
            pattern=data["pattern_type"],
            config=config,
            model_name=data.get("model_name"),
            session_name=data["session_name"],
        )
        return Response(SessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)

    def _best(self, request, data: dict, dataset) -> Response:
        """``config.preset: best``: a bagged ensemble's member sessions (ensembles.ensemble_preset_start);
        202 with the job, whose version appears when the last member finishes."""
        if data["session_name"]:
            raise DataError("preset best trains several member sessions; name the model instead", field="session_name")
        # The same checks as one session (server folders refused), on the options each member gets.
        training_config_build(
            epochs=data.get("epochs"), options={**data["config"], "preset": "default"}, from_request=True
        )
        job = ensemble_preset_start(
            user=request.user,
            dataset=dataset,
            options=data["config"],
            epochs=data.get("epochs"),
            model_name=data.get("model_name"),
        )
        sessions = SessionSerializer(job.sessions.order_by("pk"), many=True).data
        body = {"ensemble_job_id": job.pk, "model": job.model_name, "status": job.status, "sessions": sessions}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class RunsView(generics.ListAPIView):
    """GET: `neural train --config F` runs, newest first (each groups one session per model).
    POST: the same from a training file's text: 202 with the run and its queued sessions."""

    serializer_class = RunSerializer

    def get_queryset(self):
        return run_list()

    @extend_schema(request=RunRequestSerializer, responses={202: RunDetailSerializer})
    def post(self, request):
        body = RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = training_file_from_request(body.validated_data["config"])
        run = training_run_start(
            user=request.user, file=file, models=file_models(file), epochs=body.validated_data.get("epochs")
        )
        return Response(RunDetailSerializer(run_get(run_id=run.pk)).data, status=status.HTTP_202_ACCEPTED)


class RunDetailView(APIView):
    @extend_schema(responses={200: RunDetailSerializer})
    def get(self, request, run_id: int):
        return Response(RunDetailSerializer(run_get(run_id=run_id)).data)


class SessionDetailView(APIView):
    @extend_schema(responses={200: SessionSerializer})
    def get(self, request, session_id: str):
        return Response(SessionSerializer(session_resolve(ref=session_id)).data)

    @extend_schema(request=SessionAnnotateSerializer, responses={200: SessionSerializer})
    def patch(self, request, session_id: str):
        """An operator's tags and notes on a run."""
        session = session_resolve(ref=session_id)
        body = SessionAnnotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = training_session_annotate(session=session, **body.validated_data)
        return Response(SessionSerializer(session).data)

    @extend_schema(responses={200: SessionStatusSerializer, 202: SessionStatusSerializer})
    def delete(self, request, session_id: str):
        """Stop: 200 when the session is stopped now (it was queued, or its worker is gone), 202
        when its live worker was asked to stop before its next batch."""
        session = training_session_stop(session=session_resolve(ref=session_id))
        code = status.HTTP_200_OK if session.is_finished else status.HTTP_202_ACCEPTED
        return Response(SessionStatusSerializer(session).data, status=code)


class SessionStatusView(APIView):
    @extend_schema(responses={200: SessionStatusSerializer})
    def get(self, request, session_id: str):
        return Response(SessionStatusSerializer(session_resolve(ref=session_id)).data)


RANGE_PARAMETERS = [
    OpenApiParameter("from", int, description="first epoch (or step) of the range; default the first stored"),
    OpenApiParameter("to", int, description="last epoch (or step) of the range; default the last stored"),
    OpenApiParameter("max_points", int, description=f"points per figure, 4..{series.MAX_POINTS} (default 2000)"),
    OpenApiParameter("after", int, description="instead of a range: the rows after this one, whole (catch-up)"),
]


def _range(request, first: int, last: int) -> tuple[int, int, int]:
    lo = int_param(request, "from", default=first, minimum=0, maximum=MAX_ID)
    hi = int_param(request, "to", default=last, minimum=0, maximum=MAX_ID)
    if lo > hi:
        raise DataError("from must not be after to", field="from")
    points = int_param(request, "max_points", default=series.DEFAULT_POINTS, minimum=4, maximum=series.MAX_POINTS)
    return lo, hi, points


def _keys(params) -> set[str] | None:
    raw = params.get("keys")
    if not raw:
        return None
    keys = set(raw.split(","))
    if len(keys) > 50 or any(not k or len(k) > 60 for k in keys):
        raise DataError("keys is a comma-separated list of at most 50 figure names", field="keys")
    return keys


COMPARE_MAX = 10


class CompareView(APIView):
    """``neural compare`` over HTTP: versions side by side, with their per-class figures."""

    @extend_schema(
        parameters=[OpenApiParameter("models", str, required=True, description="comma-separated: A,B:v2,C")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        refs = [r.strip() for r in request.query_params.get("models", "").split(",") if r.strip()]
        if not 2 <= len(refs) <= COMPARE_MAX:
            raise DataError(f"give 2 to {COMPARE_MAX} models, comma-separated (name or name:vN)", field="models")
        return Response({"models": reports.compare(model_refs=refs)})


class SessionMetricsView(APIView):
    """A session's figures per epoch for a range (``from``, ``to``), M4-downsampled to about
    ``max_points`` per figure from stored summaries when the range is longer (``resolution`` >
    1 says how many epochs one bucket spans); or, with ``after``, the whole rows after an epoch."""

    @extend_schema(
        parameters=[
            *RANGE_PARAMETERS,
            OpenApiParameter("keys", str, description="only these figures, comma-separated"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, session_id: str):
        session = session_resolve(ref=session_id)
        params = request.query_params
        head = {"session_id": session.pk, "status": session.status, "epoch": session.epoch, "epochs": []}
        after = int_param(request, "after", default=None, minimum=0, maximum=MAX_ID)
        if after is not None:
            limit = int_param(request, "max_points", default=series.MAX_POINTS, minimum=1, maximum=series.MAX_POINTS)
            rows = epoch_rows_after(session=session, after=after, limit=limit)
            return Response({**head, "epochs": EpochMetricSerializer(rows, many=True).data, "more": len(rows) == limit})
        bounds = series.epoch_bounds(session=session)
        if bounds is None:
            return Response({**head, "from": None, "to": None, "resolution": 1, "series": {}})
        lo, hi, max_points = _range(request, *bounds)
        keys = _keys(params)
        got = series.epoch_range_series(session=session, lo=lo, hi=hi, max_points=max_points, keys=keys)
        body = {**head, "first": bounds[0], "last": bounds[1], "from": lo, "to": hi, **got}
        if got["resolution"] == 1 and keys is None:
            # Whole rows too, as this endpoint always answered for short runs.
            rows = session.epoch_metrics.filter(epoch__gte=lo, epoch__lte=hi).order_by("epoch")
            body["epochs"] = EpochMetricSerializer(rows, many=True).data
        # orjson: DRF's json renderer took longer than the read for 2,000-point figures.
        return HttpResponse(orjson.dumps(body), content_type="application/json")


class SessionStepsView(APIView):
    """Batch loss within epochs (recorded at most 10 a second) for a range of steps, min/max
    per bucket when longer than ``max_points``; or, with ``after``, the steps after one."""

    @extend_schema(parameters=RANGE_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request, session_id: str):
        session = session_resolve(ref=session_id)
        head = {"session_id": session.pk, "status": session.status}
        after = int_param(request, "after", default=None, minimum=0, maximum=MAX_ID)
        if after is not None:
            limit = int_param(request, "max_points", default=series.MAX_POINTS, minimum=1, maximum=series.MAX_POINTS)
            return Response({**head, **series.step_rows_after(session=session, after=after, limit=limit)})
        bounds = series.step_bounds(session=session)
        if bounds is None:
            return Response({**head, "resolution": 1, "step": [], "epoch": [], "loss": []})
        lo, hi, max_points = _range(request, *bounds)
        return Response(
            {
                **head,
                "from": lo,
                "to": hi,
                **series.step_range_series(session=session, lo=lo, hi=hi, max_points=max_points),
            }
        )


class SessionLogsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="only lines with id > after")],
        responses={200: SessionLogsSerializer},
    )
    def get(self, request, session_id: str):
        session = session_resolve(ref=session_id)
        after = int_param(request, "after", default=0, minimum=0, maximum=2**63 - 1)
        lines = session.log_lines.filter(id__gt=after)
        return Response(
            {"session_id": session.pk, "status": session.status, "lines": SessionLogSerializer(lines, many=True).data}
        )


class SearchView(generics.ListAPIView):
    """POST starts a search (hyper-optimize or architecture-search; 202 at once, the Celery
    workers run its trials); GET lists searches, newest first."""

    serializer_class = SearchSerializer

    def get_queryset(self):
        return tuning_job_list()

    @extend_schema(request=SearchRequestSerializer, responses={202: SearchSerializer})
    def post(self, request):
        body = SearchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with named_in_body("model"):
            version = model_version_resolve(ref=data["model"])
        job = tuning_job_create(
            user=request.user,
            version=version,
            method=data["method"],
            trials=data["trials"],
            objective=data.get("optimize"),
            epochs=data.get("epochs"),
            space=data["space"],
        )
        return Response(SearchSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class SearchDetailView(APIView):
    """The search with every trial (state, score, options, parameters, seconds, where it ran),
    the best, the size-score front and the base version's own score."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, job_id: int):
        return Response(tuning_report(job=tuning_job_get(job_id=job_id)))

    @extend_schema(responses={200: SearchSerializer})
    def delete(self, request, job_id: int):
        """Cancel: queued trials never start, running ones stop at their next epoch end. The
        operator who started it or an admin; 409 once it has ended."""
        job = tuning_job_get(job_id=job_id)
        if not can_cancel(request.user, job):
            raise PermissionDenied("only the operator who started this search, or an admin, may cancel it")
        return Response(SearchSerializer(tuning_job_cancel(job=job)).data)
