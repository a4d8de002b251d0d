//! The command line: an optional config file, an optional `-` for standard
//! input, and `--directive value...` options, turned into config text the
//! way redis-server 7.0 does it.
//!
//! Invariant: the options become exactly the text Redis would append to the
//! file (one `name "arg" "arg"` line per option), so option errors show the
//! same line and line number as Redis's.

use super::parse::{repr, split_args};

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CommandLine {
    pub config_file: Option<String>,
    pub read_stdin: bool,
    /// Config text made from the `--` options.
    pub options: Vec<u8>,
}

fn is_option(arg: &str) -> bool {
    arg.starts_with("--")
}

/// Splits the arguments (program name excluded). The first one is the config
/// file unless it starts with '-'. After `--name` the next argument is always
/// its first value, even if it starts with "--"; later values run up to the
/// next "--" argument. `--save` with no value means `save ""`. A `-` first or
/// last means "also read standard input".
pub(crate) fn parse(args: &[String]) -> CommandLine {
    let mut cl = CommandLine::default();
    let mut rest = args;
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            cl.config_file = Some(first.clone());
            rest = &args[1..];
        }
    }
    let first_index = args.len() - rest.len();
    let mut had_value = true;
    for (i, arg) in rest.iter().enumerate() {
        let j = first_index + i;
        let last = j + 1 == args.len();
        let next_is_option = args.get(j + 1).is_some_and(|n| is_option(n));
        if arg == "-" && (j == 0 || last) {
            cl.read_stdin = true;
        } else if had_value && is_option(arg) {
            had_value = start_option(&mut cl.options, arg, last, next_is_option);
        } else {
            cl.options.extend_from_slice(repr(arg.as_bytes()).as_bytes());
            cl.options.push(b' ');
            had_value = true;
        }
    }
    cl
}

/// Appends the name of option `arg` ("--name" or "--name value" in one
/// argument) and returns whether it already has a value.
fn start_option(out: &mut Vec<u8>, arg: &str, last: bool, next_is_option: bool) -> bool {
    if !out.is_empty() {
        out.push(b'\n');
    }
    out.extend_from_slice(&arg.as_bytes()[2..]);
    out.push(b' ');
    let words = split_args(arg.as_bytes()).map_or(0, |w| w.len());
    if words != 1 {
        return true;
    }
    let name = arg.to_ascii_lowercase();
    let valueless = last || next_is_option;
    if name == "--save" && valueless {
        out.extend_from_slice(b"\"\"");
        return true;
    }
    name == "--sentinel" && next_is_option
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cl(args: &[&str]) -> CommandLine {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn opts(args: &[&str]) -> String {
        String::from_utf8(cl(args).options).unwrap()
    }

    #[test]
    fn config_file_then_options() {
        let c = cl(&["/etc/s.conf", "--port", "7000", "--bind", "a", "b"]);
        assert_eq!(c.config_file.as_deref(), Some("/etc/s.conf"));
        assert!(!c.read_stdin);
        assert_eq!(String::from_utf8(c.options).unwrap(), "port \"7000\" \nbind \"a\" \"b\" ");
    }

    #[test]
    fn first_value_is_taken_even_if_it_looks_like_an_option() {
        assert_eq!(opts(&["--hz", "--port", "0"]), "hz \"--port\" \"0\" ");
    }

    #[test]
    fn name_and_value_in_one_argument() {
        assert_eq!(opts(&["--port 0", "1", "--foo"]), "port 0 \"1\" \nfoo ");
    }

    #[test]
    fn save_without_value_means_empty() {
        assert_eq!(opts(&["--save", "--port", "1"]), "save \"\"\nport \"1\" ");
        assert_eq!(opts(&["--port", "1", "--save"]), "port \"1\" \nsave \"\"");
    }

    #[test]
    fn stdin_only_first_or_last() {
        assert!(cl(&["-", "--port", "1"]).read_stdin);
        assert!(cl(&["--port", "1", "-"]).read_stdin);
        let middle = cl(&["--hz", "5", "-", "6"]);
        assert!(!middle.read_stdin);
        assert_eq!(String::from_utf8(middle.options).unwrap(), "hz \"5\" \"-\" \"6\" ");
        let c = cl(&["x.conf", "-"]);
        assert!(c.read_stdin);
        assert_eq!(c.config_file.as_deref(), Some("x.conf"));
    }

    #[test]
    fn dash_argument_is_not_a_config_file() {
        let c = cl(&["-x"]);
        assert_eq!(c.config_file, None);
        assert_eq!(String::from_utf8(c.options).unwrap(), "\"-x\" ");
    }

    #[test]
    fn no_arguments() {
        assert_eq!(cl(&[]), CommandLine::default());
    }
}
