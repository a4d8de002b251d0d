//! Comparison with a real redis-server.
