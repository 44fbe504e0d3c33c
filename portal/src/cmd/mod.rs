//! One module per subcommand.

pub mod init;
pub mod render;
pub mod walkthrough;
