"""Evidence files: upload checks and storage."""
