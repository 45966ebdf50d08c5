// PID000: annotations that say nothing the checker can use.
// (A caret after the marker points at the line above.)

/// vpid-check: pid=reel
//~^ PID000
fn find_task(pid: i32) {}

/// vpid-check: target=real
fn kill_real(pid: i32) {} //~ PID000

/// vpid-check: real
fn bare_kind_on_a_fn(pid: i32) {} //~ PID000

struct Task {
    /// vpid-check: realish
    //~^ PID000
    pid: i32,
}
