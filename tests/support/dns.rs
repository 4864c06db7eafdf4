//! (DNS server helper: to be written)
