//! The console's built files are embedded in the binary (`src/console.rs`): a file
//! added to or removed from `console/dist` rebuilds the crate, as a changed one does.

fn main() {
    println!("cargo::rerun-if-changed=../../console/dist");
}
