// PID000: a file that does not parse is reported with its location.

fn ok() {}

fn broken( { //~ PID000
}
