//! Signed decision tokens (to be written).
