//! (IRC server helper: to be written)
