"""Figure builders: pure functions from a probe's frame to a plotly figure, one module per probe."""
