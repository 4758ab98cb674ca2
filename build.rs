// `sqlx::migrate!` embeds migrations/ at compile time; without this, editing
// a migration would not rebuild the binary that applies it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
