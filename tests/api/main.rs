//! One integration test binary: a real PostgreSQL (a throwaway cluster, or
//! DATABASE_URL's server), the real app on a loopback port, real HTTP.

mod helpers;

mod foundation;
