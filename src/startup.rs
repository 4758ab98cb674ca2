//! The HTTP side of start-up: listeners that tests can bind to port 0, the
//! router over the service, and serving until a shutdown signal.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::Router;
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::Config,
    http::{metrics_router, router, AppState},
    metrics::MetricsError,
    service::{
        retention::{spawn_pruner, Pruning},
        Dompet,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Bound listeners and the apps they will serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `DOMPET_METRICS_ADDR`'s listener and its `/metrics` app.
    metrics: Option<(TcpListener, Router)>,
    /// For the background pruner, which runs while the app serves.
    dompet: Dompet,
    prune_interval: Duration,
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

impl Application {
    pub async fn build(config: &Config, pool: PgPool) -> Result<Self, StartError> {
        let replicas = crate::database::read_replicas(config, &pool).unwrap_or_else(|error| {
            tracing::error!(%error, "read replicas not used");
            Default::default()
        });
        if let Ok(candidates) = crate::database::primary_candidates(config) {
            candidates.spawn_watcher(pool.clone());
        }
        let waits = crate::pool::Waits::for_request_timeout(config.request_timeout);
        let dompet = Dompet::new(pool, config.timezone, config.withdrawal_fee)
            .with_replicas(replicas)
            .with_reads(
                config.db_transaction_pooler,
                config.db_read_connections as usize,
            )
            .with_topup_ttl_hours(config.topup_ttl_hours)
            .with_lock_wait(waits.lock);
        let mut state = AppState::new(dompet.clone(), config.operator_token.as_ref())
            .with_access_log(config.access_log);
        let handle = match config.metrics_public || config.metrics_addr.is_some() {
            true => Some(crate::metrics::install()?),
            false => None,
        };
        if let (true, Some(handle)) = (config.metrics_public, &handle) {
            state = state.with_public_metrics(handle.clone());
        }
        let listener = bind(config.addr).await?;
        let metrics = match (config.metrics_addr, handle) {
            (Some(addr), Some(handle)) => {
                Some((bind(addr).await?, metrics_router(state.clone(), handle)))
            }
            _ => None,
        };
        Ok(Self {
            listener,
            router: router(state, config.request_timeout),
            metrics,
            dompet,
            prune_interval: config.prune_interval,
        })
    }

    /// The bound address (the real port when built with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The metrics listener's bound address, when it has one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish;
    /// prunes old rows in the background meanwhile.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let metrics = self.metrics.map(|(listener, router)| {
            let until = until(stopped.clone());
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(until)
                    .await
            })
        });
        let upkeep = tokio::spawn(upkeep(until(stopped.clone())));
        let (stop_pruner, prune_stop) = watch::channel(false);
        let pruner = spawn_pruner(
            self.dompet,
            self.prune_interval,
            Pruning::default(),
            prune_stop,
        );
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(until(stopped))
            .await;
        // Ends after the batch in progress, before the pool is closed.
        let _ = stop_pruner.send(true);
        let _ = pruner.await;
        upkeep.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        served
    }
}

/// Folds recorded histogram samples into their buckets now and then, so
/// memory stays flat between scrapes.
async fn upkeep(until: impl Future<Output = ()>) {
    let Some(handle) = crate::metrics::handle() else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tokio::pin!(until);
    loop {
        tokio::select! {
            _ = tick.tick() => handle.run_upkeep(),
            () = &mut until => return,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
