"""Plot builders: pure functions, result in, plotly figure out (one module per experiment)."""
