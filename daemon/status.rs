//! (backbone, in progress)
