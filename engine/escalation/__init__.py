"""Group complaints, public-opinion incidents, the duty roster and alerts to duty officers."""
