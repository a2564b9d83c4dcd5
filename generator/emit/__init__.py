"""Pure emitters: each takes the model and returns {relative path: file text}; no I/O, no clock."""
