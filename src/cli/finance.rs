//! The finance team's commands: top-ups (list, confirm, cancel, reconcile a
//! statement) and the bulk-transfer export of withdrawals (SPEC §5.4).

use std::{io::Write, path::PathBuf};

use clap::Subcommand;

use super::print;
use crate::{
    domain::{TopupId, TopupState, WithdrawalState},
    service::{Dompet, Page, ServiceError},
    wire::{payout_csv, OperatorTopupJson, ReconcileReportJson, TopupListJson},
};

#[derive(Debug, Subcommand)]
pub enum TopupCommand {
    /// List top-ups, oldest first.
    List {
        /// pending, confirmed, cancelled or expired (all when absent).
        #[arg(long)]
        state: Option<TopupState>,
        #[arg(long, default_value_t = 1)]
        page: i64,
        #[arg(long, default_value_t = 10)]
        per_page: i64,
    },
    /// Confirm a pending top-up and credit its total to the wallet.
    Confirm { id: TopupId },
    /// Cancel a pending top-up.
    Cancel { id: TopupId },
    /// Confirm the top-ups paid by a bank statement (CSV with a header line
    /// reference,date,amount; `-` reads standard input).
    Reconcile {
        file: PathBuf,
        /// Report what would happen, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub(super) async fn topup(command: TopupCommand, dompet: &Dompet) -> Result<(), ServiceError> {
    let tz = dompet.timezone();
    match command {
        TopupCommand::List {
            state,
            page,
            per_page,
        } => {
            let page = Page::new(Some(page), Some(per_page));
            print(&TopupListJson::new(
                &dompet.list_topups(state, page).await?,
                tz,
            ));
        }
        TopupCommand::Confirm { id } => {
            print(&OperatorTopupJson::new(
                &dompet.confirm_topup(id).await?,
                tz,
            ));
        }
        TopupCommand::Cancel { id } => {
            print(&OperatorTopupJson::new(&dompet.cancel_topup(id).await?, tz));
        }
        TopupCommand::Reconcile { file, dry_run } => {
            let statement = read_statement(&file).await?;
            let report = dompet.reconcile(&statement, dry_run).await?;
            print(&ReconcileReportJson::from(&report));
        }
    }
    Ok(())
}

async fn read_statement(file: &PathBuf) -> Result<Vec<u8>, ServiceError> {
    let read = match file.as_os_str() == "-" {
        true => tokio::task::spawn_blocking(|| {
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut text).map(|_| text)
        })
        .await
        .map_err(|e| ServiceError::internal_from("reading standard input failed", e))?,
        false => tokio::fs::read(file).await,
    };
    read.map_err(|e| ServiceError::Invalid(format!("cannot read {}: {e}", file.display())))
}

/// Writes the bulk-transfer CSV of the withdrawals in `state` to stdout.
pub(super) async fn export(state: WithdrawalState, dompet: &Dompet) -> Result<(), ServiceError> {
    let rows = dompet.payouts(state).await?;
    let csv = payout_csv(&rows)
        .map_err(|e| ServiceError::internal_from("cannot write the payout file", e))?;
    std::io::stdout()
        .write_all(&csv)
        .map_err(|e| ServiceError::internal_from("cannot write to standard output", e))
}
