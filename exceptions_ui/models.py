# No models: the queue's model and services belong to the engine's side (DESIGN.md §4).
