"""mlhooks: self-hosted, serverless automations for ML platforms."""

__version__ = "0.1.0"
