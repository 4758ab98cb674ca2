//! The HTTP side of start-up: a listener that tests can bind to port 0, the
//! router over the service, and serving until a shutdown signal.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::Router;
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::Config,
    http::{router, AppState},
    service::{
        retention::{spawn_pruner, Pruning},
        Dompet,
    },
};

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

/// A bound listener and the app it will serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// For the background pruner, which runs while the app serves.
    dompet: Dompet,
    prune_interval: Duration,
}

impl Application {
    pub async fn build(config: &Config, pool: PgPool) -> Result<Self, BindError> {
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
            .with_transaction_pooler(config.db_transaction_pooler)
            .with_topup_ttl_hours(config.topup_ttl_hours)
            .with_lock_wait(waits.lock);
        let state = AppState::new(dompet.clone(), config.operator_token.as_ref());
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| BindError {
                addr: config.addr,
                source,
            })?;
        Ok(Self {
            listener,
            router: router(state, config.request_timeout),
            dompet,
            prune_interval: config.prune_interval,
        })
    }

    /// The bound address (the real port when built with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish;
    /// prunes old rows in the background meanwhile.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_pruner, stop) = watch::channel(false);
        let pruner = spawn_pruner(self.dompet, self.prune_interval, Pruning::default(), stop);
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        // Ends after the batch in progress, before the pool is closed.
        let _ = stop_pruner.send(true);
        let _ = pruner.await;
        served
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
