"""Training and evaluating networks, shared by every experiment: ``engine`` (the one training loop, its config and
progress events), ``batching`` (getting images into a model on the device, evaluation), ``frozen`` (features of a
frozen backbone computed once, a head trained on them), ``numerics`` (what "fast" means on each device),
``divergence`` (one rule for "this run diverged"), ``threads`` (CPU threads, runs side by side), ``devices``
(picking and describing a device), ``plots`` (training curves from progress events).

Nothing here knows an experiment: experiments import training, never the other way round.
"""
