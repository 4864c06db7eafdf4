//! Real peers for the integration tests: each helper starts a Debian server
//! on 127.0.0.1 with free ports and a temporary directory, and stops it when
//! dropped.
#![allow(dead_code)]

pub mod dns;
pub mod dovecot;
pub mod harness;
pub mod ircd;
pub mod proxy;

/// A free TCP port on 127.0.0.1 (bound and released; the race with another
/// process taking it meanwhile is accepted in tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
