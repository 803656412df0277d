//! SQL understanding.
