from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.api.params import int_param
from neural.datasets.selectors import dataset_get
from neural.errors import named_in_body
from neural.registry.selectors import model_version_resolve
from neural.training.selectors import epoch_series, session_get, session_list, tuning_job_get, tuning_job_list
from neural.training.serializers import (
    EpochMetricSerializer,
    SearchRequestSerializer,
    SearchSerializer,
    SessionLogSerializer,
    SessionLogsSerializer,
    SessionMetricsSerializer,
    SessionSerializer,
    SessionStatusSerializer,
    TrainRequestSerializer,
)
from neural.training.services import training_config_build, training_session_create, training_session_stop
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
        config = training_config_build(epochs=data.get("epochs"), options=data["config"])
        session = training_session_create(
            user=request.user,
            dataset=dataset,
            pattern=data["pattern_type"],
            config=config,
            model_name=data.get("model_name"),
            session_name=data["session_name"],
        )
        return Response(SessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class SessionDetailView(APIView):
    @extend_schema(responses={200: SessionSerializer})
    def get(self, request, session_id: int):
        return Response(SessionSerializer(session_get(session_id=session_id)).data)

    @extend_schema(responses={202: SessionStatusSerializer})
    def delete(self, request, session_id: int):
        session = training_session_stop(session=session_get(session_id=session_id))
        return Response(SessionStatusSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class SessionStatusView(APIView):
    @extend_schema(responses={200: SessionStatusSerializer})
    def get(self, request, session_id: int):
        return Response(SessionStatusSerializer(session_get(session_id=session_id)).data)


class SessionMetricsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("max_points", int, description="downsample to at most N epochs")],
        responses={200: SessionMetricsSerializer},
    )
    def get(self, request, session_id: int):
        session = session_get(session_id=session_id)
        max_points = int_param(request, "max_points", default=0, minimum=2, maximum=1_000_000) or None
        rows = epoch_series(session=session, max_points=max_points)
        return Response(
            {"session_id": session.pk, "status": session.status, "epochs": EpochMetricSerializer(rows, many=True).data}
        )


class SessionLogsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="only lines with id > after")],
        responses={200: SessionLogsSerializer},
    )
    def get(self, request, session_id: int):
        session = session_get(session_id=session_id)
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
