//! `statement_lines`: bank statement lines that confirmed a top-up, by the
//! bank's reference, so a line applies once however often it is sent.

use chrono::NaiveDate;
use sqlx::PgConnection;

use crate::domain::TopupId;

/// Which of `references` were applied before, and to which top-up.
pub async fn applied(
    conn: &mut PgConnection,
    references: &[String],
) -> Result<Vec<(String, TopupId)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select reference, topup_id as "topup_id: TopupId"
           from statement_lines where reference = any($1)"#,
        references
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.reference, r.topup_id))
        .collect())
}

/// Records that the line `reference` confirmed `topup_id`. Returns false when
/// the reference was recorded already (a concurrent reconciliation won).
pub async fn record(
    conn: &mut PgConnection,
    reference: &str,
    date: NaiveDate,
    amount: i64,
    topup_id: TopupId,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"insert into statement_lines (reference, line_date, amount, topup_id)
           values ($1, $2, $3, $4) on conflict (reference) do nothing"#,
        reference,
        date,
        amount,
        topup_id.get()
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
