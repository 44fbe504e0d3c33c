//! What the fuzz targets share.

include!("seeds.rs");

/// libFuzzer's `-close_fd_mask=2` closes stderr (the collector logs every
/// refused decision there) and keeps its own output; this brings stderr
/// back when a target panics, so the panic's message is shown. Call it in
/// the target's `init`, before libFuzzer closes stderr.
pub fn keep_stderr_for_panics() {
    use std::os::fd::AsRawFd;
    // SAFETY: duplicating an open descriptor.
    let saved = unsafe { libc::dup(std::io::stderr().as_raw_fd()) };
    if saved < 0 {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // SAFETY: `saved` stays open; dup2 replaces descriptor 2 atomically.
        unsafe { libc::dup2(saved, 2) };
        previous(info);
    }));
}
