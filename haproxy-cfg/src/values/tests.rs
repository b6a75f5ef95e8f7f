use super::*;

fn ms(s: &str) -> Result<u32, TimeError> {
    parse_time(s, TimeUnit::Millis).map(|t| t.value)
}

#[test]
fn times_take_every_unit_and_default_to_the_callers_unit() {
    assert_eq!(ms("5000"), Ok(5000));
    assert_eq!(ms("5s"), Ok(5000));
    assert_eq!(ms("2m"), Ok(120_000));
    assert_eq!(ms("1h"), Ok(3_600_000));
    assert_eq!(ms("1d"), Ok(86_400_000));
    assert_eq!(ms("250ms"), Ok(250));
    assert_eq!(ms("1500us"), Ok(2), "microseconds round up");
    assert_eq!(parse_time("3", TimeUnit::Seconds).map(|t| t.value), Ok(3));
    assert_eq!(
        parse_time("1500ms", TimeUnit::Seconds).map(|t| t.value),
        Ok(2)
    );
}

#[test]
fn times_refuse_fractions_and_unknown_units_naming_the_character() {
    assert_eq!(ms("1.5s"), Err(TimeError::UnexpectedChar(Some('.'))));
    assert_eq!(ms("30x"), Err(TimeError::UnexpectedChar(Some('x'))));
    assert_eq!(ms("abc"), Err(TimeError::UnexpectedChar(Some('a'))));
    assert_eq!(ms("5u"), Err(TimeError::UnexpectedChar(Some('u'))));
    assert_eq!(ms(""), Err(TimeError::UnexpectedChar(None)));
    assert_eq!(ms("-5s"), Err(TimeError::UnexpectedChar(Some('-'))));
    assert_eq!(
        TimeError::UnexpectedChar(Some('.')).to_string(),
        "unexpected character '.'"
    );
}

#[test]
fn times_at_the_limit() {
    assert_eq!(ms("2147483647"), Ok(MAX_TIME));
    assert_eq!(ms("2147483648"), Err(TimeError::Overflow));
    assert_eq!(ms("25d"), Err(TimeError::Overflow));
    assert_eq!(ms("24d"), Ok(2_073_600_000));
    assert_eq!(ms("99999999999999999999999"), Err(TimeError::Overflow));
    assert_eq!(
        parse_time("1us", TimeUnit::Seconds).map(|t| t.value),
        Ok(1),
        "rounded up, never to zero"
    );
    assert_eq!(ms("0"), Ok(0));
}

#[test]
fn a_character_after_the_unit_is_only_reported() {
    assert_eq!(
        parse_time("5sx", TimeUnit::Millis),
        Ok(Time {
            value: 5000,
            trailing: Some('x')
        })
    );
}

#[test]
fn atol_is_as_lenient_as_c() {
    assert_eq!(atol("1k"), 1);
    assert_eq!(atol("100x"), 100);
    assert_eq!(atol("abc"), 0);
    assert_eq!(atol("  -42z"), -42);
    assert_eq!(atol("+7"), 7);
    assert_eq!(atol("99999999999999999999999"), i64::MAX);
    assert_eq!(atoi("99999999999"), i32::MAX);
}

#[test]
fn strict_integers_refuse_garbage() {
    assert_eq!(strict_int("42"), Some(42));
    assert_eq!(strict_int("-3"), Some(-3));
    assert_eq!(strict_int("4x"), None);
    assert_eq!(strict_int(""), None);
    assert_eq!(strict_int("-"), None);
    assert_eq!(strict_int("99999999999999999999"), None);
}

#[test]
fn sizes_use_powers_of_1024() {
    assert_eq!(parse_size("16"), Ok(16));
    assert_eq!(parse_size("16k"), Ok(16_384));
    assert_eq!(parse_size("1m"), Ok(1 << 20));
    assert_eq!(parse_size("2G"), Ok(2 << 30));
    assert_eq!(parse_size("1kb"), Err(Some('b')));
    assert_eq!(parse_size("x"), Err(Some('x')));
    assert_eq!(parse_size("99999999999999999999"), Err(None));
}

fn bind(s: &str) -> Result<Address, String> {
    parse_address(s, AddrRules::BIND).map_err(|e| e.to_string())
}
fn server(s: &str) -> Result<Address, String> {
    parse_address(s, AddrRules::SERVER).map_err(|e| e.to_string())
}
fn inet(host: Host, port: Port) -> Address {
    Address::Inet {
        family: Family::Any,
        dgram: false,
        host,
        port,
    }
}
fn v4(a: [u8; 4]) -> Host {
    Host::Ip(IpAddr::V4(Ipv4Addr::from(a)))
}

#[test]
fn bind_addresses_in_every_form() {
    assert_eq!(
        bind("127.0.0.1:80"),
        Ok(inet(v4([127, 0, 0, 1]), Port::Range(80, 80)))
    );
    assert_eq!(bind(":80"), Ok(inet(v4([0, 0, 0, 0]), Port::Range(80, 80))));
    assert_eq!(
        bind("*:80"),
        Ok(inet(v4([0, 0, 0, 0]), Port::Range(80, 80)))
    );
    assert_eq!(
        bind("127.0.0.1:8000-8010"),
        Ok(inet(v4([127, 0, 0, 1]), Port::Range(8000, 8010)))
    );
    assert_eq!(
        bind("[::1]:443"),
        Ok(inet(
            Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            Port::Range(443, 443)
        ))
    );
    assert_eq!(
        bind(":::443"),
        Ok(inet(
            Host::Ip(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            Port::Range(443, 443)
        ))
    );
    assert_eq!(
        bind("unix@/run/x.sock"),
        Ok(Address::Unix("/run/x.sock".into()))
    );
    assert_eq!(bind("/run/x.sock"), Ok(Address::Unix("/run/x.sock".into())));
    assert_eq!(bind("abns@name"), Ok(Address::Abns("name".into())));
    assert_eq!(bind("fd@3"), Ok(Address::Fd("3".into())));
    assert!(matches!(
        bind("ipv6@:80"),
        Ok(Address::Inet {
            family: Family::V6,
            ..
        })
    ));
    assert!(matches!(
        bind("udp@:514"),
        Ok(Address::Inet { dgram: true, .. })
    ));
}

#[test]
fn bind_address_errors_use_haproxy_text() {
    assert_eq!(bind("127.0.0.1:99999"), Err("invalid port '99999'".into()));
    assert_eq!(
        bind("127.0.0.1:abc"),
        Err("invalid character 'a' in port number 'abc' in '127.0.0.1:abc'".into())
    );
    assert_eq!(
        bind("127.0.0.1"),
        Err("missing port specification in '127.0.0.1'".into())
    );
    assert_eq!(bind("127.0.0.1:0"), Err("invalid port '0'".into()));
    assert_eq!(
        bind("1.2.3.4:90-80"),
        Err("invalid port range '90-80'".into())
    );
    assert_eq!(
        bind("example.com:80"),
        Err("invalid address: 'example.com' in 'example.com:80'".into())
    );
    assert_eq!(
        bind("1.2.3.4:+1"),
        Err("port offset not permitted here in '1.2.3.4:+1'".into())
    );
    assert_eq!(
        bind("fd@x"),
        Err("file descriptor 'x' is not a valid integer in 'fd@x'".into())
    );
    // 2.6.12: `socket path '...' too long (max 97)`: sun_path less the `.<pid>.tmp` room.
    let max = MAX_UNIX_PATH - UNIX_TEMP_SUFFIX;
    assert_eq!(
        bind(&format!("/{}", "a".repeat(max))),
        Err(format!(
            "socket path '/{}' too long (max 97)",
            "a".repeat(max)
        ))
    );
    assert!(bind(&format!("/{}", "a".repeat(max - 1))).is_ok());
    assert!(server(&format!("/{}", "a".repeat(max))).is_err());
    // Abstract names keep the whole of sun_path.
    assert!(bind(&format!("abns@{}", "a".repeat(MAX_UNIX_PATH))).is_ok());
    assert_eq!(
        bind(&format!("abns@{}", "a".repeat(MAX_UNIX_PATH + 1))),
        Err(format!(
            "socket path 'abns@{}' too long (max 107)",
            "a".repeat(MAX_UNIX_PATH + 1)
        ))
    );
}

/// `unix-bind prefix /tmp/pp`: 2.6.12 says `(max 90)` and binds the prefixed path.
#[test]
fn unix_bind_prefix_bounds() {
    let at =
        |s: &str| parse_address_in(s, AddrRules::BIND, Some("/tmp/pp")).map_err(|e| e.to_string());
    assert_eq!(
        at("/tmp/x.sock"),
        Ok(Address::Unix("/tmp/pp/tmp/x.sock".into()))
    );
    assert_eq!(
        at("unix@rel.sock"),
        Ok(Address::Unix("/tmp/pprel.sock".into()))
    );
    assert_eq!(at("abns@n"), Ok(Address::Abns("n".into())));
    let ok = format!("/{}", "a".repeat(89));
    assert!(at(&ok).is_ok());
    assert_eq!(
        at(&format!("{ok}a")),
        Err(format!("socket path '{ok}a' too long (max 90)"))
    );
    // A prefix longer than the room left gives HAProxy's negative bound.
    let long = "p".repeat(100);
    let r = parse_address_in("/x", AddrRules::BIND, Some(&long)).map_err(|e| e.to_string());
    assert_eq!(r, Err("socket path '/x' too long (max -3)".into()));
}

#[test]
fn server_addresses_allow_names_offsets_and_no_port() {
    assert_eq!(
        server("localhost:80"),
        Ok(inet(Host::Name("localhost".into()), Port::Range(80, 80)))
    );
    assert_eq!(
        server("300.1.2.3:80"),
        Ok(inet(Host::Name("300.1.2.3".into()), Port::Range(80, 80)))
    );
    assert_eq!(server("10.0.0.1"), Ok(inet(v4([10, 0, 0, 1]), Port::None)));
    assert_eq!(
        server("10.0.0.1:+1000"),
        Ok(inet(v4([10, 0, 0, 1]), Port::Offset(1000)))
    );
    assert_eq!(
        server("10.0.0.1:0"),
        Ok(inet(v4([10, 0, 0, 1]), Port::Range(0, 0)))
    );
    assert_eq!(
        server("10.0.0.1:80-90"),
        Err("port range not permitted here in '10.0.0.1:80-90'".into())
    );
    assert_eq!(
        server("127.0.0.1:99999"),
        Err("invalid port '99999'".into())
    );
}

#[test]
fn networks_take_prefix_lengths_and_dotted_masks() {
    let ten = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0));
    assert_eq!(parse_network("10.0.0.0/8"), Some((ten, 8)));
    assert_eq!(parse_network("10.0.0.0/255.0.0.0"), Some((ten, 8)));
    assert_eq!(parse_network("10.0.0.0"), Some((ten, 32)));
    assert_eq!(parse_network("::1/128").map(|n| n.1), Some(128));
    assert_eq!(parse_network("10.0.0.0/33"), None);
    assert_eq!(parse_network("10.0.0.0/255.0.255.0"), None);
    assert_eq!(parse_network("nope"), None);
}
