"""Program facts shared by every rule: parse once, resolve names, evaluate
constants, read model structure, training loops and search spaces.

Rules never walk the syntax tree on their own; they ask a `ModuleContext`
(one file) and its `ProjectIndex` (the other files of the project).
"""
