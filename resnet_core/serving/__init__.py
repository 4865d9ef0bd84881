"""Serving the lab to many people (Streamlit-free, so any front end can use it): ``jobs`` (long work in a worker a
page polls, a fair queue, heartbeats), ``estimates`` and ``workloads`` (time a class can plan on), ``profile``
(the local and hosted caps), ``classroom`` (predict-then-reveal questions answered by measured results)."""
