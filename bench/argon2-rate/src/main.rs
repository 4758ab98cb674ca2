//! `argon2-rate PHC PASSWORD THREADS SECONDS [reuse|alloc]`: verifies PASSWORD
//! against the PHC string on THREADS threads for SECONDS and prints one JSON
//! line with the verifications per second, per-verification p50/p99 and this
//! process's peak RSS.
//!
//! `reuse` (the default) is what the machine can do: each thread verifies
//! into the same memory blocks every time (`hash_password_into_with_memory`
//! with the hash's own parameters and salt, then a constant-time comparison).
//! `alloc` is exactly what dompet's `Passwords::verify` runs today
//! (`Argon2::default().verify_password`: 19 MiB allocated and freed per
//! verification). Both compute the same argon2id hash.

use std::{
    env, fs,
    sync::{Arc, Barrier},
    thread,
    time::{Duration, Instant},
};

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordVerifier, Version};

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 5 && args.len() != 6 {
        eprintln!("usage: argon2-rate PHC PASSWORD THREADS SECONDS [reuse|alloc]");
        std::process::exit(2);
    }
    let reuse = args.get(5).is_none_or(|m| m != "alloc");
    let phc = args[1].clone();
    let password = args[2].clone();
    let threads: usize = args[3].parse().expect("THREADS");
    let seconds: f64 = args[4].parse().expect("SECONDS");
    PasswordHash::new(&phc).expect("a PHC string");

    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (phc, password, barrier) = (phc.clone(), password.clone(), barrier.clone());
            thread::spawn(move || {
                let parsed = PasswordHash::new(&phc).expect("PHC");
                let params = Params::try_from(&parsed).expect("params");
                let algorithm = Algorithm::try_from(parsed.algorithm).expect("algorithm");
                let version = parsed
                    .version
                    .map(|v| Version::try_from(v).expect("version"))
                    .unwrap_or_default();
                let mut salt_buf = [0u8; 64];
                let salt = parsed
                    .salt
                    .expect("salt")
                    .decode_b64(&mut salt_buf)
                    .expect("salt");
                let expected = parsed.hash.expect("hash");
                let mut out = vec![0u8; expected.len()];
                let mut blocks = vec![Block::default(); params.block_count()];
                let hasher = Argon2::new(algorithm, version, params);
                let mut times = Vec::new();
                barrier.wait();
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs_f64(seconds) {
                    let t = Instant::now();
                    let ok = if reuse {
                        hasher
                            .hash_password_into_with_memory(
                                password.as_bytes(),
                                salt,
                                &mut out,
                                &mut blocks[..],
                            )
                            .is_ok()
                            && out == expected.as_bytes()
                    } else {
                        Argon2::default()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    };
                    assert!(ok, "the password does not match the hash");
                    times.push(t.elapsed().as_micros() as u64);
                }
                (times, start.elapsed())
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut elapsed = Duration::ZERO;
    for handle in handles {
        let (times, took) = handle.join().expect("thread");
        all.extend(times);
        elapsed = elapsed.max(took);
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize];
    let hwm_kb = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .unwrap_or_default();
    println!(
        "{{\"verifications\":{},\"seconds\":{:.3},\"rate\":{:.1},\"p50_us\":{},\"p99_us\":{},\"threads\":{},\"memory\":\"{}\",\"hwm_kb\":{}}}",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        threads,
        if reuse { "reuse" } else { "alloc" },
        if hwm_kb.is_empty() { "null".into() } else { hwm_kb }
    );
}
