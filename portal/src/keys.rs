//! Ed25519 key files (to be written).
