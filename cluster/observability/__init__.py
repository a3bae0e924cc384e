"""What an operator sees: health reports and the tutor's metrics (Ray-free; the Ray exporter
lives in `deployments/ray_metrics.py`)."""
