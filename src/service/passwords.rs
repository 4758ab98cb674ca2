//! argon2id hashing on a fixed set of worker threads, one per core, off the
//! async runtime and scheduled fairly between lanes: each user (or login
//! name) has its own queue, and the workers serve the queues round-robin, so
//! one user's backlog waits behind its own turn instead of in front of
//! everyone. Queues are bounded and excess is shed at once (`Busy`), never
//! left to time out. Each worker keeps its ~19 MiB of argon2 memory for the
//! next hash, so a flood costs no more memory than a single request per core.

use std::{
    collections::{HashMap, VecDeque},
    panic::AssertUnwindSafe,
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::Instant,
};

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use super::ServiceError;
use crate::domain::UserId;

/// A lane's backlog (waiting and running) past which its requests are shed:
/// above the 30 simultaneous withdrawals a single client may fairly send.
pub const MAX_LANE_BACKLOG: usize = 32;
/// Waiting jobs per worker past which every request is shed: at tens of
/// milliseconds a hash, the last in line still starts within a few seconds.
pub const MAX_WAITING_PER_WORKER: usize = 64;
/// The most argon2 memory a stored hash may ask for (64 MiB); the ones dompet
/// writes take 19 MiB.
const MAX_BLOCKS: usize = 64 * 1024;

/// Whose turn a password check waits in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lane {
    /// A withdrawal (or anything else) by this user.
    User(UserId),
    /// A login attempt for this login name (lower-cased by the caller), whether
    /// or not it names a user.
    Login(String),
    /// Work on no one's behalf yet: user creation, password resets, the seed.
    Anonymous,
}

/// The hashing service; clones share the same workers.
#[derive(Clone)]
pub struct Passwords {
    workers: Arc<Workers>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// One worker per core: each hash takes a core for tens of milliseconds,
    /// so more workers would only share the same cores.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_workers(cores)
    }

    pub fn with_workers(count: usize) -> Self {
        let count = count.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            max_waiting: count * MAX_WAITING_PER_WORKER,
        });
        for n in 0..count {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("dompet-argon2-{n}"))
                .spawn(move || shared.work());
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing worker");
            }
        }
        Self {
            workers: Arc::new(Workers { shared }),
        }
    }

    /// Holds a place in `lane` for one hash or verification, or sheds the
    /// request (`Busy`) when the lane or the machine already has too much
    /// waiting: callers ask first, before spending anything else on it.
    pub fn admit(&self, lane: Lane) -> Result<Admission, ServiceError> {
        self.workers
            .shared
            .reserve(&lane)
            .inspect_err(|_| crate::metrics::hash_shed())?;
        Ok(Admission {
            workers: self.workers.clone(),
            lane: Some(lane),
        })
    }

    /// A PHC string (argon2id, the crate's default cost) for `password`.
    pub async fn hash(&self, lane: Lane, password: String) -> Result<String, ServiceError> {
        self.admit(lane)?.hash(password).await
    }

    /// Whether `password` matches the PHC string `phc`; false for a wrong
    /// password or an unreadable stored hash. `Busy` when `lane` (or the
    /// whole machine) already has too much waiting.
    pub async fn verify(
        &self,
        lane: Lane,
        password: String,
        phc: String,
    ) -> Result<bool, ServiceError> {
        self.admit(lane)?.verify(password, phc).await
    }

    /// Jobs waiting for a worker, all lanes together.
    pub fn waiting(&self) -> usize {
        self.workers.shared.lock().waiting
    }
}

/// A place held in a lane: one hash or verification that will not be shed.
/// Dropped unused, the place is given back.
pub struct Admission {
    workers: Arc<Workers>,
    /// Taken when the work is queued.
    lane: Option<Lane>,
}

impl Admission {
    pub async fn hash(self, password: String) -> Result<String, ServiceError> {
        self.run(move |memory| hash_with(memory, password.as_bytes()))
            .await?
            .map_err(|e| ServiceError::Hashing(Box::new(e)))
    }

    pub async fn verify(self, password: String, phc: String) -> Result<bool, ServiceError> {
        self.run(move |memory| verify_with(memory, password.as_bytes(), &phc))
            .await
    }

    async fn run<T: Send + 'static>(
        mut self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let (reply, answer) = oneshot::channel();
        let wait = crate::metrics::hash_wait();
        let span = tracing::Span::current();
        let queued_at = Instant::now();
        let job: Job = Box::new(move |memory| {
            // Off the queue gauge, with the time it waited.
            drop(wait);
            // The request gave up while waiting (a timeout, a disconnect):
            // its turn costs nothing.
            if reply.is_closed() {
                return;
            }
            tracing::trace!(parent: &span, waited_ms = queued_at.elapsed().as_millis() as u64, "hashing");
            let _ = reply.send(span.in_scope(|| work(memory)));
        });
        if let Some(lane) = self.lane.take() {
            self.workers.shared.submit(lane, job);
        }
        answer.await.map_err(|e| ServiceError::Hashing(Box::new(e)))
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(lane) = self.lane.take() {
            self.workers.shared.unreserve(&lane);
        }
    }
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Owned by the `Passwords` handles; the last one gone stops the workers.
struct Workers {
    shared: Arc<Shared>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    max_waiting: usize,
}

#[derive(Default)]
struct Queue {
    lanes: HashMap<Lane, LaneQueue>,
    /// Lanes with waiting jobs, in the order their next job is served.
    turns: VecDeque<Lane>,
    /// Jobs queued for a worker, all lanes together.
    waiting: usize,
    /// Places held for jobs not queued yet, all lanes together.
    reserved: usize,
    closed: bool,
}

#[derive(Default)]
struct LaneQueue {
    reserved: usize,
    waiting: VecDeque<Job>,
    running: usize,
}

impl LaneQueue {
    fn backlog(&self) -> usize {
        self.reserved + self.waiting.len() + self.running
    }
}

impl Shared {
    /// The queue, even if a worker panicked while holding it: its state is
    /// updated in single steps that a panic cannot leave half-done.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reserve(&self, lane: &Lane) -> Result<(), ServiceError> {
        let mut queue = self.lock();
        if queue.closed || queue.waiting + queue.reserved >= self.max_waiting {
            return Err(ServiceError::Busy);
        }
        let entry = queue.lanes.entry(lane.clone()).or_default();
        if entry.backlog() >= MAX_LANE_BACKLOG {
            return Err(ServiceError::Busy);
        }
        entry.reserved += 1;
        queue.reserved += 1;
        Ok(())
    }

    fn unreserve(&self, lane: &Lane) {
        let mut queue = self.lock();
        if let Some(entry) = queue.lanes.get_mut(lane) {
            entry.reserved -= 1;
            queue.reserved -= 1;
            Self::forget_if_idle(&mut queue, lane);
        }
    }

    /// Queues a job in the place `reserve` held for it.
    fn submit(&self, lane: Lane, job: Job) {
        let mut queue = self.lock();
        let Some(entry) = queue.lanes.get_mut(&lane) else {
            return;
        };
        entry.reserved -= 1;
        entry.waiting.push_back(job);
        let first = entry.waiting.len() == 1;
        queue.reserved -= 1;
        queue.waiting += 1;
        if first {
            queue.turns.push_back(lane);
        }
        drop(queue);
        self.ready.notify_one();
    }

    fn forget_if_idle(queue: &mut Queue, lane: &Lane) {
        if queue.lanes.get(lane).is_some_and(|e| e.backlog() == 0) {
            queue.lanes.remove(lane);
        }
    }

    /// The next lane's oldest job; the lane goes to the back of the turns.
    fn next(queue: &mut Queue) -> Option<(Lane, Job)> {
        let lane = queue.turns.pop_front()?;
        let entry = queue.lanes.get_mut(&lane)?;
        let job = entry.waiting.pop_front()?;
        entry.running += 1;
        if !entry.waiting.is_empty() {
            queue.turns.push_back(lane.clone());
        }
        queue.waiting -= 1;
        Some((lane, job))
    }

    fn finished(&self, lane: &Lane) {
        let mut queue = self.lock();
        if let Some(entry) = queue.lanes.get_mut(lane) {
            entry.running -= 1;
            Self::forget_if_idle(&mut queue, lane);
        }
    }

    fn work(self: Arc<Self>) {
        lower_priority();
        let mut memory = Vec::new();
        loop {
            let (lane, job) = {
                let mut queue = self.lock();
                loop {
                    if queue.closed {
                        return;
                    }
                    if let Some(next) = Self::next(&mut queue) {
                        break next;
                    }
                    queue = self.ready.wait(queue).unwrap_or_else(|e| e.into_inner());
                }
            };
            // A panic inside argon2 costs that one request, not the worker.
            if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
                tracing::error!("password hashing panicked");
            }
            self.finished(&lane);
        }
    }
}

/// Hashing yields the CPU to everything else: with every core hashing
/// through a flood, requests that need no hash (and PostgreSQL beside us)
/// still get their share first, and an idle machine hashes at full speed.
#[cfg(target_os = "linux")]
fn lower_priority() {
    const NICE: i32 = 10;
    let thread = nix::unistd::gettid().as_raw() as nix::libc::id_t;
    // SAFETY: a plain system call on integers; on Linux it changes the
    // niceness of this thread only.
    let failed = unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS, thread, NICE) } != 0;
    if failed {
        tracing::debug!("cannot lower the priority of a hashing worker");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// `memory` grown to `blocks` (never shrunk: the next hash reuses it).
fn blocks(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

fn hash_with(
    memory: &mut Vec<Block>,
    password: &[u8],
) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2.hash_password_into_with_memory(
        password,
        salt_bytes,
        &mut out,
        blocks(memory, params.block_count()),
    )?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(hash.to_string())
}

/// What `Argon2::verify_password` does, in the worker's own memory.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        tracing::warn!(
            m_cost = params.m_cost(),
            "a stored password hash asks for more memory than allowed"
        );
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    let block_count = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, blocks(memory, block_count))
        .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_and_verifies_like_the_argon2_crate() {
        let mut memory = Vec::new();
        let ours = hash_with(&mut memory, b"rahasia-123").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"rahasia-123", &parsed)
            .is_ok());
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"rahasia-123", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, b"rahasia-123", &theirs));
        assert!(verify_with(&mut memory, b"rahasia-123", &ours));
        assert!(!verify_with(&mut memory, b"rahasia-124", &theirs));
        assert!(!verify_with(&mut memory, b"", &ours));
        assert!(!verify_with(&mut memory, b"rahasia-123", "not a hash"));
        assert!(!verify_with(
            &mut memory,
            b"rahasia-123",
            "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
        ));
        // One buffer of the default cost, reused.
        assert_eq!(memory.len(), Params::default().block_count());
    }

    fn shared(max_waiting: usize) -> Shared {
        Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            max_waiting,
        }
    }

    fn queue(shared: &Shared, lane: &Lane) -> Result<(), ServiceError> {
        shared.reserve(lane)?;
        shared.submit(lane.clone(), Box::new(|_| {}));
        Ok(())
    }

    #[test]
    fn lanes_are_served_round_robin() {
        let shared = shared(100);
        let a = Lane::User(UserId::new(1));
        let b = Lane::User(UserId::new(2));
        for lane in [&a, &a, &a, &b] {
            queue(&shared, lane).unwrap();
        }
        let mut queue = std::mem::take(&mut *shared.lock());
        let order: Vec<Lane> =
            std::iter::from_fn(|| Shared::next(&mut queue).map(|(l, _)| l)).collect();
        assert_eq!(order, vec![a.clone(), b, a.clone(), a]);
    }

    #[test]
    fn a_lane_past_its_backlog_and_a_full_machine_are_shed() {
        let shared = shared(MAX_LANE_BACKLOG + 2);
        let a = Lane::User(UserId::new(1));
        for _ in 0..MAX_LANE_BACKLOG - 1 {
            queue(&shared, &a).unwrap();
        }
        // A held place counts as much as a queued job.
        shared.reserve(&a).unwrap();
        assert!(matches!(shared.reserve(&a), Err(ServiceError::Busy)));
        for n in 0..2 {
            shared.reserve(&Lane::Login(format!("name{n}"))).unwrap();
        }
        assert!(matches!(
            shared.reserve(&Lane::Anonymous),
            Err(ServiceError::Busy)
        ));
        // Places given back are free again, and idle lanes are forgotten.
        shared.unreserve(&Lane::Login("name0".into()));
        shared.reserve(&Lane::Anonymous).unwrap();
        shared.unreserve(&Lane::Anonymous);
        shared.unreserve(&Lane::Login("name1".into()));
        assert_eq!(shared.lock().lanes.len(), 1);
    }

    #[tokio::test]
    async fn an_admission_dropped_unused_gives_its_place_back() {
        let passwords = Passwords::with_workers(1);
        let lane = Lane::User(UserId::new(7));
        let held: Vec<_> = (0..MAX_LANE_BACKLOG)
            .map(|_| passwords.admit(lane.clone()).unwrap())
            .collect();
        assert!(matches!(
            passwords.admit(lane.clone()),
            Err(ServiceError::Busy)
        ));
        drop(held);
        let phc = passwords
            .hash(lane.clone(), "rahasia-123".into())
            .await
            .unwrap();
        assert!(passwords
            .verify(lane, "rahasia-123".into(), phc)
            .await
            .unwrap());
        // The worker answers, then marks its job done.
        for _ in 0..100 {
            if passwords.workers.shared.lock().lanes.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("an idle lane was kept");
    }
}
