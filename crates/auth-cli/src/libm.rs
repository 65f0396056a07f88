//! `pow` for the dependencies that call it, so that `auth` does not load `libm.so.6` at all.
//!
//! `pow` is the only libm function in the binary (the AWS SDK's client-side rate limiter and
//! indicatif's rate estimate call `f64::powf`). For that one function the loader would map,
//! relocate and initialize a whole shared library in every process that git, cargo and docker
//! start: without it `auth --version` runs 358.0 K instructions instead of 403.5 K
//! (docs/performance.md, "Third pass"). Defined here, the linker resolves `pow` in the executable
//! and `--as-needed` (rustc's default for `*-linux-gnu`) drops `libm.so.6` from `DT_NEEDED`.
//! The implementation is the `libm` crate's port of musl's `pow`; both callers feed it to a
//! heuristic (a token-bucket rate, a progress estimate), never to a credential or a file.
//!
//! `tests/e2e/help.rs` (`the_binary_does_not_load_libm`) fails if another libm function appears.

/// C's `double pow(double x, double y)`.
#[allow(
    unsafe_code,
    reason = "a C symbol must be unmangled to stand in for libm's; it is safe Rust inside"
)]
#[unsafe(no_mangle)]
extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[cfg(test)]
mod tests {
    /// Against values known without a `pow`: `f64::powf` would call this very function.
    #[test]
    fn pow_gives_the_values_c_defines() {
        let exact = [
            (2.0, 10.0, 1024.0),
            (10.0, -3.0, 0.001),
            (-2.0, 3.0, -8.0),
            (0.0, 0.0, 1.0),
            (9.0, 0.5, 3.0),
            (1.5, 0.5, 1.5_f64.sqrt()),
        ];
        for (x, y, want) in exact {
            let got = super::pow(x, y);
            assert!(
                (got - want).abs() <= f64::EPSILON * want.abs(),
                "{x}^{y}: {got}, not {want}"
            );
        }
        assert!(super::pow(-1.0, 0.5).is_nan());
        let pole = super::pow(0.0, -1.0);
        assert!(pole.is_infinite() && pole > 0.0, "0^-1: {pole}");
    }
}
