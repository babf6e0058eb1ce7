"""The seed guide's two `.neural-training.yml` examples, verbatim (Basic and Advanced Configuration)."""

BASIC = """\
neural_training:
  # Model settings
  models:
    coordination:
      epochs: 50
      learning_rate: 0.001
      validation_split: 0.2
      
    optimization:
      epochs: 75
      learning_rate: 0.0008
      validation_split: 0.25
      
    prediction:
      epochs: 100
      learning_rate: 0.0005
      validation_split: 0.3
      
    security:
      epochs: 150
      learning_rate: 0.0003
      validation_split: 0.2

  # Training data sources
  data_sources:
    operations: "./data/operations/"
    security: "./data/security-scans/"
    performance: "./data/performance/"
    coordination: "./data/coordination/"

  # Model persistence
  model_storage:
    path: "./models/"
    versioning: true
    compression: true
    backup: true

  # Training optimization
  optimization:
    early_stopping: true
    patience: 10
    batch_size: 32
    gpu_acceleration: false
"""

ADVANCED = """\
neural_training:
  advanced:
    # Cross-validation
    cross_validation:
      enabled: true
      folds: 5
      stratified: true
      
    # Hyperparameter optimization
    hyperparameter_tuning:
      enabled: true
      method: "grid_search"  # grid_search, random_search, bayesian
      trials: 50
      
    # Model ensemble
    ensemble:
      enabled: true
      methods: ["voting", "stacking"]
      base_models: 3
      
    # Transfer learning
    transfer_learning:
      enabled: true
      source_domain: "general_operations"
      target_domain: "security_operations"
"""
