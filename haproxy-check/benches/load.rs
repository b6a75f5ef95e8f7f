//! Harness benchmark: 2,000 servers checked every 100 ms on loopback for 10 s; reports CPU use
//! and interval jitter. Run with `cargo bench -p haproxy-check --bench load`.
//! The body is the `load` example, so the figures in README.md can be reproduced either way.

#[path = "../examples/load.rs"]
#[expect(dead_code, reason = "the example's own main is not used by the bench")]
mod load;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    load::run()
}
