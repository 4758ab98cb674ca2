//! Statement reconciliation (SPEC §5.4): each incoming transfer whose amount
//! is exactly one pending top-up's total confirms it. A line applies at most
//! once, by its bank reference, however often the statement is sent.

use std::collections::{HashMap, HashSet};

use super::{
    statement::{self, StatementLine},
    topup::credit_topup,
    Dompet, ServiceError,
};
use crate::{
    domain::TopupId,
    store::{statement_lines, topups, wallets},
};

/// A line that confirmed a top-up (or would, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub line: u64,
    pub reference: String,
    pub amount: i64,
    pub topup_id: TopupId,
}

/// A line whose amount is no pending top-up's total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub line: u64,
    pub reference: String,
    pub amount: i64,
}

/// A line that cannot be told apart: its amount is the total of a pending
/// top-up, but another line of the statement carries the same amount (or
/// more than one top-up has that total). Nothing is applied for it; the
/// finance team confirms by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    pub line: u64,
    pub reference: String,
    pub amount: i64,
    pub topup_ids: Vec<TopupId>,
}

/// A line whose reference was applied before (then `topup_id` is the top-up
/// it confirmed), or appears earlier in the same statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub line: u64,
    pub reference: String,
    pub topup_id: Option<TopupId>,
}

/// A line that could not be read; nothing is applied for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLine {
    pub line: u64,
    pub reference: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub dry_run: bool,
    pub matched: Vec<Matched>,
    pub unmatched: Vec<Unmatched>,
    pub ambiguous: Vec<Ambiguous>,
    pub duplicate: Vec<Duplicate>,
    pub invalid: Vec<InvalidLine>,
}

/// How applying one line ended.
enum Applied {
    Confirmed,
    /// The top-up stopped being pending since it was looked up.
    Gone,
    /// A concurrent reconciliation recorded the same reference first.
    Taken,
}

impl Dompet {
    /// Applies a statement. A dry run takes exactly the same steps and rolls
    /// each line back, so it answers the report a real run would give now.
    #[tracing::instrument(name = "service.reconcile", skip_all, fields(dry_run))]
    pub async fn reconcile(
        &self,
        statement: &[u8],
        dry_run: bool,
    ) -> Result<ReconcileReport, ServiceError> {
        let lines =
            statement::parse(statement).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let mut report = ReconcileReport {
            dry_run,
            ..ReconcileReport::default()
        };
        let mut fresh = Vec::new();
        let mut seen = HashSet::new();
        for line in lines {
            match line {
                Err(bad) => report.invalid.push(InvalidLine {
                    line: bad.line,
                    reference: bad.reference,
                    reason: bad.reason,
                }),
                Ok(line) if !seen.insert(line.reference.clone()) => {
                    report.duplicate.push(Duplicate {
                        line: line.line,
                        reference: line.reference,
                        topup_id: None,
                    })
                }
                Ok(line) => fresh.push(line),
            }
        }
        let candidates = self.skip_applied(fresh, &mut report).await?;
        self.match_lines(candidates, &mut report).await?;
        // Repeats inside this statement name the top-up their reference
        // confirmed, now or before.
        let confirmed: HashMap<String, TopupId> = report
            .matched
            .iter()
            .map(|m| (m.reference.clone(), m.topup_id))
            .chain(
                report
                    .duplicate
                    .iter()
                    .filter_map(|d| Some((d.reference.clone(), d.topup_id?))),
            )
            .collect();
        for duplicate in &mut report.duplicate {
            if duplicate.topup_id.is_none() {
                duplicate.topup_id = confirmed.get(&duplicate.reference).copied();
            }
        }
        report.duplicate.sort_by_key(|d| d.line);
        tracing::info!(
            dry_run,
            matched = report.matched.len(),
            unmatched = report.unmatched.len(),
            ambiguous = report.ambiguous.len(),
            duplicate = report.duplicate.len(),
            invalid = report.invalid.len(),
            "statement reconciled"
        );
        Ok(report)
    }

    /// Lines whose reference was applied by an earlier statement become
    /// duplicates; the others are returned.
    async fn skip_applied(
        &self,
        lines: Vec<StatementLine>,
        report: &mut ReconcileReport,
    ) -> Result<Vec<StatementLine>, ServiceError> {
        let references: Vec<String> = lines.iter().map(|l| l.reference.clone()).collect();
        let mut conn = self.pool.acquire().await?;
        let applied: HashMap<String, TopupId> = statement_lines::applied(&mut conn, &references)
            .await?
            .into_iter()
            .collect();
        let (done, fresh): (Vec<_>, Vec<_>) = lines
            .into_iter()
            .partition(|l| applied.contains_key(&l.reference));
        for line in done {
            report.duplicate.push(Duplicate {
                topup_id: applied.get(&line.reference).copied(),
                line: line.line,
                reference: line.reference,
            });
        }
        Ok(fresh)
    }

    async fn match_lines(
        &self,
        lines: Vec<StatementLine>,
        report: &mut ReconcileReport,
    ) -> Result<(), ServiceError> {
        let amounts: Vec<i64> = lines.iter().map(|l| l.amount).collect();
        let mut lines_per_amount: HashMap<i64, usize> = HashMap::new();
        for amount in &amounts {
            *lines_per_amount.entry(*amount).or_default() += 1;
        }
        let mut conn = self.pool.acquire().await?;
        let mut pending: HashMap<i64, Vec<TopupId>> = HashMap::new();
        for (total, id) in topups::pending_with_totals(&mut conn, &amounts).await? {
            pending.entry(total).or_default().push(id);
        }
        drop(conn);
        for line in lines {
            let ids = pending.get(&line.amount).cloned().unwrap_or_default();
            let contested = lines_per_amount.get(&line.amount).copied().unwrap_or(0) > 1;
            let unmatched = Unmatched {
                line: line.line,
                reference: line.reference.clone(),
                amount: line.amount,
            };
            match ids.as_slice() {
                [] => report.unmatched.push(unmatched),
                [id] if !contested => match self.apply_line(&line, *id, report.dry_run).await? {
                    Applied::Confirmed => report.matched.push(Matched {
                        line: line.line,
                        reference: line.reference,
                        amount: line.amount,
                        topup_id: *id,
                    }),
                    Applied::Gone => report.unmatched.push(unmatched),
                    Applied::Taken => report.duplicate.push(Duplicate {
                        line: line.line,
                        reference: line.reference,
                        topup_id: None,
                    }),
                },
                _ => report.ambiguous.push(Ambiguous {
                    line: line.line,
                    reference: line.reference,
                    amount: line.amount,
                    topup_ids: ids,
                }),
            }
        }
        Ok(())
    }

    /// One line, one transaction under the wallet lock: the top-up becomes
    /// confirmed, the line is recorded by its reference, the total is
    /// credited. A dry run rolls it all back.
    async fn apply_line(
        &self,
        line: &StatementLine,
        id: TopupId,
        dry_run: bool,
    ) -> Result<Applied, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let Some(found) = topups::find(&mut tx, id).await? else {
            return Ok(Applied::Gone);
        };
        let mut wallet = wallets::lock(&mut tx, found.user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        let Some(done) = topups::confirm(&mut tx, id).await? else {
            return Ok(Applied::Gone);
        };
        let recorded =
            statement_lines::record(&mut tx, &line.reference, line.date, line.amount, id).await?;
        if !recorded {
            return Ok(Applied::Taken);
        }
        credit_topup(&mut tx, &mut wallet, &done).await?;
        match dry_run {
            true => tx.rollback().await?,
            false => {
                tx.commit().await?;
                tracing::info!(topup_id = %id, line = line.line, "top-up confirmed by statement");
            }
        }
        Ok(Applied::Confirmed)
    }
}
