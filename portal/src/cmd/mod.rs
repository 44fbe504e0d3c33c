//! One module per subcommand.

pub mod walkthrough;
