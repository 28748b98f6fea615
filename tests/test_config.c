/*
 * test_config.c - the cluster file parser (daemon/config.c).
 * Runs from the repository root (it loads etc/seqcast.conf, etc/lossy.conf).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqcast/config.h"
#include "seqcast/wire.h"

static struct sc_config cfg;
static char err[512];

/* A minimal valid cluster, for tests that append to it. */
#define MINIMAL \
	"[cluster]\n" \
	"id = 7\n" \
	"group = 239.1.2.3:5000\n" \
	"[server 0]\n" \
	"listen = 127.0.0.1:6000\n"

static int parse(const char *text)
{
	memset(err, 0, sizeof err);
	return sc_config_parse(&cfg, text, "t.conf", err, sizeof err);
}

static void expect_error(const char *text, const char *want)
{
	int r = parse(text);

	if (r != -1 || strcmp(err, want) != 0) {
		print_error("text:\n%s\nwant: %s\ngot (%d): %s\n", text, want,
		    r, err);
		fail();
	}
}

static uint16_t port(const struct sockaddr_in *sa)
{
	return ntohs(sa->sin_port);
}

static const char *ip(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;
	i = (i + 1) % 4;
	return inet_ntop(AF_INET, &a, buf[i], sizeof buf[i]);
}

static void test_defaults(void **state)
{
	(void)state;
	sc_config_defaults(&cfg);
	assert_int_equal(cfg.nservers, 0);
	assert_string_equal(ip(cfg.interface), "127.0.0.1");
	assert_int_equal(cfg.ttl, 1);
	assert_int_equal(cfg.coordinator, 0);
	assert_int_equal(cfg.heartbeat_ms, 50);
	assert_int_equal(cfg.failover_ms, 150);
	assert_int_equal(cfg.mtu, 0);
	assert_true(cfg.nack_delay_ms == SC_NACK_DELAY_AUTO);
	assert_int_equal(cfg.nack_backoff_max_ms, 50);
	assert_int_equal(cfg.report_ms, 100);
	assert_int_equal(cfg.forward_retry_ms, 20);
	assert_int_equal(cfg.retx_window_ms, 1);
	assert_true(cfg.store_bytes == 33554432);
	assert_int_equal(cfg.dedup_max, 262144);
	assert_int_equal(cfg.pending_max, 65536);
	assert_int_equal(cfg.holdback_max, 65536);
	assert_int_equal(cfg.value_max, SC_VALUE_MAX);
	assert_string_equal(cfg.data_dir, "");
	assert_int_equal(cfg.fault.types, 0);
	assert_true(cfg.fault.dir[SC_IN].drop == 0);
}

static void test_minimal_gets_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.cluster_id, 7);
	assert_string_equal(ip(cfg.group.sin_addr), "239.1.2.3");
	assert_int_equal(port(&cfg.group), 5000);
	assert_int_equal(cfg.group.sin_family, AF_INET);
	assert_int_equal(cfg.nservers, 1);
	assert_int_equal(cfg.ttl, 1);
	assert_int_equal(cfg.heartbeat_ms, 50);
	assert_true(cfg.store_bytes == 33554432);
	assert_int_equal(cfg.value_max, SC_VALUE_MAX);
	assert_true(cfg.servers[0].present);
	assert_false(cfg.servers[1].present);
	assert_false(cfg.servers[0].has_interface);
	assert_string_equal(ip(cfg.servers[0].interface), "127.0.0.1");
	assert_false(cfg.servers[0].has_fault);
	assert_false(sc_fault_active(sc_config_fault(&cfg, 0)));
}

static const char full[] =
	"; a full cluster file\n"
	"[cluster]\n"
	"id = 4000000000\n"
	"group = 239.255.0.1:4299\n"
	"interface = 10.1.2.3\n"
	"ttl = 255\n"
	"coordinator = 2\n"
	"heartbeat_ms = 20\n"
	"failover_ms = 300\n"
	"mtu = 9000\n"
	"nack_delay_ms = 0\n"
	"nack_backoff_max_ms = 300\n"
	"report_ms = 150\n"
	"forward_retry_ms = 250\n"
	"retx_window_ms = 12\n"
	"store_bytes = 64M\n"
	"dedup_max = 1000\n"
	"pending_max = 2000\n"
	"holdback_max = 3000\n"
	"value_max = 512\n"
	"data_dir = /var/lib/seqcast\n"
	"fault_in_drop = 0.1\n"
	"fault_in_dup = 5%\n"
	"fault_in_reorder = 0.02\n"
	"fault_in_delay = 0.03\n"
	"fault_out_drop = 0.2\n"
	"fault_out_dup = 0.25\n"
	"fault_out_reorder = 12.5%\n"
	"fault_out_delay = 1%\n"
	"fault_delay_ms = 40\n"
	"fault_types = data, retx,nack\n"
	"fault_seed = 18446744073709551615\n"
	"fault_drop_data_above = 1000\n"
	"\n"
	"[server 0]\n"
	"listen = 10.1.2.3:4300\n"
	"[server 1]\n"
	"listen = 10.1.2.4:4300\n"
	"interface = 10.1.2.4\n"
	"data_dir = /srv/one\n"
	"fault_out_dup = 0.5 ; only this: not merged\n"
	"[server 2]\n"
	"listen = 10.1.2.3:4301\n"
	"data_dir =\n";

static void test_full_file(void **state)
{
	const struct sc_fault_conf *f;

	(void)state;
	assert_int_equal(parse(full), 0);
	assert_true(cfg.cluster_id == 4000000000u);
	assert_string_equal(ip(cfg.group.sin_addr), "239.255.0.1");
	assert_int_equal(port(&cfg.group), 4299);
	assert_string_equal(ip(cfg.interface), "10.1.2.3");
	assert_int_equal(cfg.ttl, 255);
	assert_int_equal(cfg.coordinator, 2);
	assert_int_equal(cfg.nservers, 3);
	assert_int_equal(cfg.heartbeat_ms, 20);
	assert_int_equal(cfg.failover_ms, 300);
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.nack_delay_ms, 0);
	assert_int_equal(cfg.nack_backoff_max_ms, 300);
	assert_int_equal(cfg.report_ms, 150);
	assert_int_equal(cfg.forward_retry_ms, 250);
	assert_int_equal(cfg.retx_window_ms, 12);
	assert_true(cfg.store_bytes == 64u << 20);
	assert_int_equal(cfg.dedup_max, 1000);
	assert_int_equal(cfg.pending_max, 2000);
	assert_int_equal(cfg.holdback_max, 3000);
	assert_int_equal(cfg.value_max, 512);
	assert_string_equal(cfg.data_dir, "/var/lib/seqcast");

	f = &cfg.fault;
	assert_true(f->dir[SC_IN].drop == 0.1);
	assert_true(f->dir[SC_IN].dup > 0.0499 && f->dir[SC_IN].dup < 0.0501);
	assert_true(f->dir[SC_IN].reorder == 0.02);
	assert_true(f->dir[SC_IN].delay == 0.03);
	assert_true(f->dir[SC_OUT].drop == 0.2);
	assert_true(f->dir[SC_OUT].dup == 0.25);
	assert_true(f->dir[SC_OUT].reorder == 0.125);
	assert_true(f->dir[SC_OUT].delay > 0.0099 &&
	    f->dir[SC_OUT].delay < 0.0101);
	assert_int_equal(f->delay_ms, 40);
	assert_int_equal(f->types,
	    (1u << SC_DATA) | (1u << SC_RETX) | (1u << SC_NACK));
	assert_true(f->seed == UINT64_MAX);
	assert_true(f->drop_data_above == 1000);

	/* server 0: everything from the cluster */
	assert_true(cfg.servers[0].present);
	assert_string_equal(ip(cfg.servers[0].listen.sin_addr), "10.1.2.3");
	assert_int_equal(port(&cfg.servers[0].listen), 4300);
	assert_int_equal(cfg.servers[0].listen.sin_family, AF_INET);
	assert_false(cfg.servers[0].has_interface);
	assert_string_equal(ip(cfg.servers[0].interface), "10.1.2.3");
	assert_string_equal(cfg.servers[0].data_dir, "/var/lib/seqcast");
	assert_false(cfg.servers[0].has_fault);
	assert_ptr_equal(sc_config_fault(&cfg, 0), &cfg.fault);

	/* server 1: own interface, data folder and fault settings */
	assert_string_equal(ip(cfg.servers[1].listen.sin_addr), "10.1.2.4");
	assert_true(cfg.servers[1].has_interface);
	assert_string_equal(ip(cfg.servers[1].interface), "10.1.2.4");
	assert_string_equal(cfg.servers[1].data_dir, "/srv/one");
	assert_true(cfg.servers[1].has_fault);
	f = sc_config_fault(&cfg, 1);
	assert_ptr_equal(f, &cfg.servers[1].fault);
	assert_true(f->dir[SC_OUT].dup == 0.5);
	assert_true(f->dir[SC_IN].drop == 0);     /* not merged */
	assert_true(f->dir[SC_OUT].drop == 0);
	assert_int_equal(f->types, 0);
	assert_true(f->seed == 0);
	assert_true(f->drop_data_above == 0);
	assert_int_equal(f->delay_ms, 0);

	/* server 2: an explicit empty data_dir means in memory */
	assert_int_equal(port(&cfg.servers[2].listen), 4301);
	assert_string_equal(cfg.servers[2].data_dir, "");
	assert_false(cfg.servers[2].has_fault);
	assert_false(cfg.servers[3].present);

	/* out of range ids fall back to the cluster's */
	assert_ptr_equal(sc_config_fault(&cfg, 99), &cfg.fault);
}

static void test_value_forms(void **state)
{
	(void)state;
	/* sizes */
	assert_int_equal(parse(MINIMAL "[cluster]\n"), -1); /* dup section */
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "store_bytes = 4k\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_true(cfg.store_bytes == 4096);
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "store_bytes = 3G\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_true(cfg.store_bytes == 3ull << 30);
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "store_bytes = 12345\n[server 0]\nlisten=1.2.3.4:65535\n"), 0);
	assert_true(cfg.store_bytes == 12345);
	/* probabilities */
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "fault_in_drop = 100%\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_true(cfg.fault.dir[SC_IN].drop == 1);
	assert_true(sc_fault_active(&cfg.fault));
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "fault_in_drop = 1\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_true(cfg.fault.dir[SC_IN].drop == 1);
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "fault_in_drop = 0\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_false(sc_fault_active(&cfg.fault));
	/* types */
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "fault_types = all\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_int_equal(cfg.fault.types, 0);
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "fault_types = add,fwd,data,retx,ack,stamped,heartbeat,nack,"
	    "report,gone,log_req,log_reply,stats_req,stats_reply\n"
	    "[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_int_equal(cfg.fault.types, 0x7ffe);
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "fault_types = Heartbeat\n[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_int_equal(cfg.fault.types, 1u << SC_HEARTBEAT);
	/* "key: value" is accepted by inih, ':' in values is kept */
	assert_int_equal(parse("[cluster]\nid: 3\ngroup: 239.1.1.1:99\n"
	    "[server 0]\nlisten: 1.2.3.4:5\n"), 0);
	assert_int_equal(cfg.cluster_id, 3);
	assert_int_equal(port(&cfg.group), 99);
	/* group edges of 224.0.0.0/4 */
	assert_int_equal(parse("[cluster]\nid=1\ngroup=224.0.0.0:1\n"
	    "[server 0]\nlisten=1.2.3.4:5\n"), 0);
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.255.255.255:1\n"
	    "[server 0]\nlisten=1.2.3.4:5\n"), 0);
}

static void test_layout_tolerance(void **state)
{
	(void)state;
	/* CRLF, a BOM, indentation, tabs, section names with spaces inside
	 * the brackets, comments after a section header. */
	assert_int_equal(parse("\xef\xbb\xbf[cluster]\r\n"
	    "  id = 9\r\n"
	    "\tgroup = 239.1.1.1:1 ; comment\r\n"
	    "   heartbeat_ms = 7\r\n"
	    "[ server  0 ] ; the first\r\n"
	    "listen=1.2.3.4:5\r\n"
	    "# end\r\n"), 0);
	assert_int_equal(cfg.cluster_id, 9);
	assert_int_equal(cfg.heartbeat_ms, 7);
	assert_int_equal(cfg.nservers, 1);
	/* an empty server section still counts as present: needs listen */
	expect_error(MINIMAL "[server 1]\n",
	    "t.conf: [server 1]: missing key 'listen'");
	/* no final newline */
	assert_int_equal(parse("[cluster]\nid=1\ngroup=239.1.1.1:1\n"
	    "[server 0]\nlisten=1.2.3.4:5"), 0);
}

/* Line numbers are right with comments and blank lines before. */
static const char header10[] =
	"; comment 1\n"
	"# comment 2\n"
	"\n"
	"   ; indented comment 4\n"
	"[cluster]\n"
	"id = 1 ; comment\n"
	"\n"
	"group = 239.1.1.1:4000\n"
	"\t\n"
	"# line 10\n";

static void check_at_11(const char *line, const char *want)
{
	char text[1024];

	snprintf(text, sizeof text, "%s%s\n[server 0]\nlisten = 1.2.3.4:5\n",
	    header10, line);
	expect_error(text, want);
}

static void test_errors_cluster_keys(void **state)
{
	(void)state;
	check_at_11("bogus = 1", "t.conf:11: key 'bogus': unknown key");
	check_at_11("heartbeat_ms = abc",
	    "t.conf:11: key 'heartbeat_ms': not a number: 'abc'");
	check_at_11("heartbeat_ms = 12abc",
	    "t.conf:11: key 'heartbeat_ms': not a number: '12abc'");
	check_at_11("heartbeat_ms = 1 2",
	    "t.conf:11: key 'heartbeat_ms': not a number: '1 2'");
	check_at_11("heartbeat_ms = ",
	    "t.conf:11: key 'heartbeat_ms': not a number: ''");
	check_at_11("heartbeat_ms = +5",
	    "t.conf:11: key 'heartbeat_ms': not a number: '+5'");
	check_at_11("heartbeat_ms = 50 # not a comment",
	    "t.conf:11: key 'heartbeat_ms': not a number: "
	    "'50 # not a comment'");
	check_at_11("heartbeat_ms = -5",
	    "t.conf:11: key 'heartbeat_ms': out of range: '-5' (1..3600000)");
	check_at_11("heartbeat_ms = 0",
	    "t.conf:11: key 'heartbeat_ms': out of range: '0' (1..3600000)");
	check_at_11("dedup_max = 4294967296",
	    "t.conf:11: key 'dedup_max': out of range: '4294967296' "
	    "(1..1073741824)");
	check_at_11("fault_seed = 18446744073709551616",
	    "t.conf:11: key 'fault_seed': out of range: "
	    "'18446744073709551616' (0..18446744073709551615)");
	check_at_11("ttl = 0", "t.conf:11: key 'ttl': out of range: '0' "
	    "(1..255)");
	check_at_11("ttl = 256", "t.conf:11: key 'ttl': out of range: '256' "
	    "(1..255)");
	check_at_11("value_max = 1025", "t.conf:11: key 'value_max': out of "
	    "range: '1025' (1..1024)");
	check_at_11("value_max = 0", "t.conf:11: key 'value_max': out of "
	    "range: '0' (1..1024)");
	check_at_11("store_bytes = 12X", "t.conf:11: key 'store_bytes': not a "
	    "size: '12X' (bytes, optional K, M or G suffix)");
	check_at_11("store_bytes = 99999999999999G", "t.conf:11: key "
	    "'store_bytes': out of range: '99999999999999G' "
	    "(1..18446744073709551615)");
	check_at_11("store_bytes = 0", "t.conf:11: key 'store_bytes': out of "
	    "range: '0' (1..18446744073709551615)");
	check_at_11("store_bytes = 123456789012345678901234567890G", "t.conf:11: "
	    "key 'store_bytes': out of range: "
	    "'123456789012345678901234567890G' (1..18446744073709551615)");
	check_at_11("store_bytes = G", "t.conf:11: key 'store_bytes': not a "
	    "size: 'G' (bytes, optional K, M or G suffix)");
	check_at_11("fsync = sometimes", "t.conf:11: key 'fsync': bad value: "
	    "'sometimes' (expected each, interval or never)");
	check_at_11("nack_delay_ms = autox", "t.conf:11: key 'nack_delay_ms': "
	    "not a number: 'autox'");
	check_at_11("interface = 1.2.3", "t.conf:11: key 'interface': bad "
	    "address: '1.2.3' (expected A.B.C.D)");
	check_at_11("interface = 01.2.3.4", "t.conf:11: key 'interface': bad "
	    "address: '01.2.3.4' (expected A.B.C.D)");
	check_at_11("interface = 239.1.1.1", "t.conf:11: key 'interface': not "
	    "a unicast address: '239.1.1.1'");
	check_at_11("fault_in_drop = 1.5", "t.conf:11: key 'fault_in_drop': "
	    "bad probability: '1.5' (expected 0..1, e.g. 0.1, or a "
	    "percentage, e.g. 10%)");
	check_at_11("fault_in_drop = 101%", "t.conf:11: key 'fault_in_drop': "
	    "bad probability: '101%' (expected 0..1, e.g. 0.1, or a "
	    "percentage, e.g. 10%)");
	check_at_11("fault_out_dup = -0.1", "t.conf:11: key 'fault_out_dup': "
	    "bad probability: '-0.1' (expected 0..1, e.g. 0.1, or a "
	    "percentage, e.g. 10%)");
	check_at_11("fault_out_dup = nan", "t.conf:11: key 'fault_out_dup': "
	    "bad probability: 'nan' (expected 0..1, e.g. 0.1, or a "
	    "percentage, e.g. 10%)");
	check_at_11("fault_out_dup = .5", "t.conf:11: key 'fault_out_dup': "
	    "bad probability: '.5' (expected 0..1, e.g. 0.1, or a "
	    "percentage, e.g. 10%)");
	check_at_11("fault_types = data,bogus", "t.conf:11: key 'fault_types':"
	    " unknown message type 'bogus' (one of add,fwd,data,retx,ack,"
	    "stamped,heartbeat,nack,report,gone,log_req,log_reply,stats_req,"
	    "stats_reply,view_change,do_view,recovery,recovery_reply,config,"
	    "cookie,all)");
	check_at_11("fault_types = data,,nack", "t.conf:11: key 'fault_types':"
	    " empty item in type list 'data,,nack' (expected names like "
	    "data,retx,nack or all)");
	check_at_11("fault_delay_ms = 3600001", "t.conf:11: key "
	    "'fault_delay_ms': out of range: '3600001' (0..3600000)");
	check_at_11("listen = 1.2.3.4:5", "t.conf:11: key 'listen': not "
	    "allowed in [cluster] (only in [server N])");
	check_at_11("id = 2", "t.conf:11: key 'id': duplicate key");
	check_at_11("this line has no equals sign", "t.conf:11: syntax error");
	check_at_11("= 5", "t.conf:11: syntax error: missing key name");
	check_at_11("[foo]", "t.conf:11: unknown section [foo]");
	check_at_11("[cluster]", "t.conf:11: duplicate section [cluster] "
	    "(first at line 5)");
	check_at_11("[server 0", "t.conf:11: syntax error: missing ']'");
	check_at_11("[cluster] x", "t.conf:11: syntax error: text after ']'");
}

/* failover_ms: 10..60000 ms; mtu: 0 (the interface's) or 576..65535. */
static void test_failover_and_mtu(void **state)
{
	static const struct {
		const char *line;
		int ok;
		uint32_t failover, mtu;
	} cases[] = {
		{ "failover_ms = 10", 1, 10, 0 },
		{ "failover_ms = 60000", 1, 60000, 0 },
		{ "mtu = 0", 1, 150, 0 },
		{ "mtu = 576", 1, 150, 576 },
		{ "mtu = 1500", 1, 150, 1500 },
		{ "mtu = 65535", 1, 150, 65535 },
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "[cluster]\nid = 1\n"
		    "group = 239.1.1.1:1\n%s\n[server 0]\n"
		    "listen = 1.2.3.4:5\n", cases[i].line);
		assert_int_equal(parse(text), 0);
		assert_int_equal(cfg.failover_ms, cases[i].failover);
		assert_int_equal(cfg.mtu, cases[i].mtu);
	}
	check_at_11("failover_ms = 9", "t.conf:11: key 'failover_ms': out of "
	    "range: '9' (10..60000)");
	check_at_11("failover_ms = 60001", "t.conf:11: key 'failover_ms': out "
	    "of range: '60001' (10..60000)");
	check_at_11("failover_ms = 1s", "t.conf:11: key 'failover_ms': not a "
	    "number: '1s'");
	check_at_11("mtu = 1", "t.conf:11: key 'mtu': out of range: '1' "
	    "(0 or 576..65535)");
	check_at_11("mtu = 575", "t.conf:11: key 'mtu': out of range: '575' "
	    "(0 or 576..65535)");
	check_at_11("mtu = 65536", "t.conf:11: key 'mtu': out of range: "
	    "'65536' (0 or 576..65535)");
	check_at_11("mtu = -1", "t.conf:11: key 'mtu': out of range: '-1' "
	    "(0 or 576..65535)");
	check_at_11("mtu = auto", "t.conf:11: key 'mtu': not a number: "
	    "'auto'");
	expect_error(MINIMAL "[server 1]\nmtu = 1500\n", "t.conf:7: key "
	    "'mtu': not allowed in [server 1] (only in [cluster])");
	/* --set goes through the same kinds */
	assert_int_equal(parse(MINIMAL), 0);
	assert_int_equal(sc_config_set(&cfg, 0, "mtu=1400", err, sizeof err),
	    0);
	assert_int_equal(cfg.mtu, 1400);
	assert_int_equal(sc_config_set(&cfg, 0, "mtu=100", err, sizeof err),
	    -1);
	assert_string_equal(err, "key 'mtu': out of range: '100' (0 or "
	    "576..65535)");
	assert_int_equal(cfg.mtu, 1400);
	assert_int_equal(sc_config_set(&cfg, 0, "failover_ms=500", err,
	    sizeof err), 0);
	assert_int_equal(cfg.failover_ms, 500);
}

static void test_errors_group(void **state)
{
	(void)state;
	expect_error("\n\n[cluster]\nid = 1\ngroup = 10.0.0.1:4299\n",
	    "t.conf:5: key 'group': not a multicast address: "
	    "'10.0.0.1:4299' (expected 224.0.0.0/4)");
	expect_error("[cluster]\ngroup = 240.0.0.1:4299\n",
	    "t.conf:2: key 'group': not a multicast address: "
	    "'240.0.0.1:4299' (expected 224.0.0.0/4)");
	expect_error("[cluster]\ngroup = 239.1.1.1\n",
	    "t.conf:2: key 'group': bad address: '239.1.1.1' "
	    "(expected A.B.C.D:PORT)");
	expect_error("[cluster]\ngroup = 239.1.1.1:0\n",
	    "t.conf:2: key 'group': bad address: '239.1.1.1:0' "
	    "(expected A.B.C.D:PORT)");
	expect_error("[cluster]\ngroup = 239.1.1.1:65536\n",
	    "t.conf:2: key 'group': bad address: '239.1.1.1:65536' "
	    "(expected A.B.C.D:PORT)");
}

static void test_errors_servers(void **state)
{
	(void)state;
	expect_error(MINIMAL "; c\n\n[server 1]\nlisten = 127.0.0.1:6001\n"
	    "[server 1]\n",
	    "t.conf:10: duplicate section [server 1] (first at line 8)");
	expect_error(MINIMAL "[server 1]\nlisten = 127.0.0.1:6000\n",
	    "t.conf:7: key 'listen': address '127.0.0.1:6000' already used "
	    "by [server 0]");
	expect_error(MINIMAL "[server 1]\nlisten = 127.0.0.1:600x\n",
	    "t.conf:7: key 'listen': bad address: '127.0.0.1:600x' "
	    "(expected A.B.C.D:PORT)");
	expect_error(MINIMAL "[server 1]\nlisten = 256.0.0.1:6001\n",
	    "t.conf:7: key 'listen': bad address: '256.0.0.1:6001' "
	    "(expected A.B.C.D:PORT)");
	expect_error(MINIMAL "[server 1]\nlisten = 239.0.0.1:6001\n",
	    "t.conf:7: key 'listen': not a unicast address: '239.0.0.1:6001'");
	expect_error(MINIMAL "[server 1]\nheartbeat_ms = 5\n",
	    "t.conf:7: key 'heartbeat_ms': not allowed in [server 1] (only "
	    "in [cluster])");
	expect_error(MINIMAL "[server 1]\nlisten = 1.2.3.4:1\nlisten = "
	    "1.2.3.4:2\n", "t.conf:8: key 'listen': duplicate key");
	expect_error(MINIMAL "[server 64]\n",
	    "t.conf:6: section [server 64]: bad server id (expected 0..63)");
	expect_error(MINIMAL "[server x]\n",
	    "t.conf:6: section [server x]: bad server id (expected 0..63)");
	expect_error(MINIMAL "[server 01]\n",
	    "t.conf:6: section [server 01]: bad server id (expected 0..63)");
	expect_error(MINIMAL "[server -1]\n",
	    "t.conf:6: section [server -1]: bad server id (expected 0..63)");
	expect_error(MINIMAL "[server]\n", "t.conf:6: unknown section [server]");
	expect_error(MINIMAL "[server 1]\nfault_in_drop = 0.6\n"
	    "fault_in_dup = 0.5\n",
	    "t.conf:8: key 'fault_in_dup': fault_in_* probabilities add up to "
	    "more than 1 (1.1)");
	expect_error(MINIMAL "[server 1]\nfault_types = x\n",
	    "t.conf:7: key 'fault_types': unknown message type 'x' (one of "
	    "add,fwd,data,retx,ack,stamped,heartbeat,nack,report,gone,log_req,"
	    "log_reply,stats_req,stats_reply,view_change,do_view,recovery,"
	    "recovery_reply,config,cookie,all)");
}

static void test_errors_whole_file(void **state)
{
	(void)state;
	expect_error("", "t.conf: missing section [cluster]");
	expect_error("; nothing\n[server 0]\nlisten = 1.2.3.4:5\n",
	    "t.conf: missing section [cluster]");
	expect_error("[cluster]\nid = 1\n[server 0]\nlisten = 1.2.3.4:5\n",
	    "t.conf: [cluster]: missing key 'group'");
	expect_error("[cluster]\ngroup = 239.1.1.1:1\n[server 0]\n"
	    "listen = 1.2.3.4:5\n", "t.conf: [cluster]: missing key 'id'");
	expect_error("[cluster]\nid = 1\ngroup = 239.1.1.1:1\n",
	    "t.conf: no [server N] section (at least [server 0] is required)");
	expect_error(MINIMAL "[server 2]\nlisten = 1.2.3.4:5\n",
	    "t.conf: missing section [server 1] (server ids must run 0..2 "
	    "without holes)");
	expect_error("[cluster]\nid = 1\ngroup = 239.1.1.1:1\n"
	    "[server 1]\nlisten = 1.2.3.4:5\n",
	    "t.conf: missing section [server 0] (server ids must run 0..1 "
	    "without holes)");
	expect_error("[cluster]\nid = 1\ngroup = 239.1.1.1:1\n"
	    "coordinator = 3\n[server 0]\nlisten = 1.2.3.4:5\n"
	    "[server 1]\nlisten = 1.2.3.4:6\n",
	    "t.conf:4: key 'coordinator': no [server 3] in this file");
	expect_error("[cluster]\nid = 1\ngroup = 239.1.1.1:1\n"
	    "coordinator = 64\n",
	    "t.conf:4: key 'coordinator': out of range: '64' (0..63)");
	expect_error("id = 1\n[cluster]\n",
	    "t.conf:1: key 'id': outside any section (expected [cluster] or "
	    "[server N] first)");
	expect_error("[cluster]\nid = 1\ngroup = 239.1.1.1:1\n[server 0]\n",
	    "t.conf: [server 0]: missing key 'listen'");
}

/*
 * Every error names the line it is on, whatever comes before it: CRLF, a
 * byte order mark, comments, blank and indented lines, a comment longer
 * than inih's line buffer, and whatever comes after it.
 */
static const char *const preambles[] = {
	"[cluster]\nid = 1\n",
	"[cluster]\r\nid = 1\r\n",
	"\xef\xbb\xbf[cluster]\nid = 1\n",
	"; c\n\n# c\n   \n[cluster] ; c\n\t\n  id = 1 ; c\n"
	"                 ; an indented comment, not a continuation\n",
	"[cluster]\n;xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
	"id = 1\n",
	"[cluster]\nid = 1\n\r\n\f\n\v\n",
};

/* Each bad line, and what is said about it after "t.conf:LINE: ". */
static const struct {
	const char *line, *what;
} bad_lines[] = {
	{ "[servers 0]", "unknown section [servers 0]" },
	{ "[server 0", "syntax error: missing ']'" },
	{ "[cluster] x", "syntax error: text after ']'" },
	{ "[cluster]", "duplicate section [cluster] (first at line %d)" },
	{ "[server 64]", "section [server 64]: bad server id (expected "
	    "0..63)" },
	{ "noequals", "syntax error" },
	{ "= 5", "syntax error: missing key name" },
	{ "bogus = 1", "key 'bogus': unknown key" },
	{ "heartbeat_ms = abc", "key 'heartbeat_ms': not a number: 'abc'" },
	{ "listen = 1.2.3.4:5", "key 'listen': not allowed in [cluster] "
	    "(only in [server N])" },
	{ "id = 2", "key 'id': duplicate key" },
	{ "coordinator = 5", "key 'coordinator': no [server 5] in this "
	    "file" },
	{ "data_dir = /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxx",
	  "line too long (at most 198 characters)" },
};

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The line of [cluster] in a preamble. */
static int cluster_line(const char *s)
{
	return count_lines(s) - count_lines(strstr(s, "[cluster]")) + 1;
}

static void test_error_lines(void **state)
{
	char text[2048], what[256], want[300];

	(void)state;
	for (size_t i = 0; i < sizeof preambles / sizeof preambles[0]; i++) {
		int line = count_lines(preambles[i]) + 1;

		for (size_t j = 0; j < sizeof bad_lines / sizeof bad_lines[0];
		    j++) {
			snprintf(text, sizeof text, "%s%s\ngroup = 239.1.1.1:1"
			    "\n\n[server 0]\nlisten = 1.2.3.4:5\n; end\n",
			    preambles[i], bad_lines[j].line);
			snprintf(what, sizeof what, bad_lines[j].what,
			    cluster_line(preambles[i]));
			snprintf(want, sizeof want, "t.conf:%d: %s", line,
			    what);
			expect_error(text, want);
		}
	}
}

/* seqcastd --check-config prints what sc_config_load says: a bad section
 * header on line 3 is reported on line 3. */
static void test_bad_section_line_in_file(void **state)
{
	char path[] = "/tmp/seqcast-test-XXXXXX", want[300];
	const char text[] = "[cluster]\nid = 1\n[servers 0]\n"
	    "listen = 1.2.3.4:5\n";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1),
	    (ssize_t)(sizeof text - 1));
	close(fd);
	assert_int_equal(sc_config_load(&cfg, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: unknown section [servers 0]", path);
	assert_string_equal(err, want);
	unlink(path);
}

/* The first error wins, whichever part of the parser finds it. */
static void test_first_error_wins(void **state)
{
	(void)state;
	/* inih's syntax error (line 3) before our key error (line 4) */
	expect_error("[cluster]\nid = 1\nnoequals\nbogus = 2\n",
	    "t.conf:3: syntax error");
	/* our key error before a later syntax error */
	expect_error("[cluster]\nbogus = 2\nnoequals\n",
	    "t.conf:2: key 'bogus': unknown key");
	/* a syntax error before a section error */
	expect_error("[cluster]\nnoequals\n[foo]\n", "t.conf:2: syntax error");
	/* a section error before a syntax error */
	expect_error("[foo]\nnoequals\n", "t.conf:1: unknown section [foo]");
	/* a key error before whole-file errors */
	expect_error("[cluster]\nttl = 0\n", "t.conf:2: key 'ttl': out of "
	    "range: '0' (1..255)");
}

static void test_long_lines(void **state)
{
	char text[4096], dir[300];

	(void)state;
	/* a long comment is fine */
	memset(dir, 'x', 250);
	dir[250] = '\0';
	snprintf(text, sizeof text, MINIMAL ";%s\n", dir);
	assert_int_equal(parse(text), 0);
	/* a long key line is refused with its line number, not split */
	snprintf(text, sizeof text, MINIMAL "data_dir = /%s\n", dir);
	expect_error(text, "t.conf:6: line too long (at most 198 characters)");
	/* the longest data_dir that fits */
	memset(dir, 'y', 186);
	dir[186] = '\0';
	snprintf(text, sizeof text, MINIMAL "data_dir = /%s\n", dir);
	assert_int_equal(parse(text), 0);
	assert_int_equal(strlen(cfg.servers[0].data_dir), 187);
}

static void test_error_leaves_config(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL), 0);
	assert_int_equal(cfg.cluster_id, 7);
	assert_int_equal(parse("[cluster]\nid = 99\nbogus = 1\n"), -1);
	assert_int_equal(cfg.cluster_id, 7);
	assert_int_equal(cfg.nservers, 1);
	/* NULL err is allowed */
	assert_int_equal(sc_config_parse(&cfg, "junk", "x", NULL, 0), -1);
}

static void test_etc_files(void **state)
{
	(void)state;
	memset(err, 0, sizeof err);
	assert_int_equal(sc_config_load(&cfg, "etc/seqcast.conf", err,
	    sizeof err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.cluster_id, 1);
	assert_string_equal(ip(cfg.group.sin_addr), "239.255.42.99");
	assert_int_equal(port(&cfg.group), 4299);
	assert_int_equal(cfg.nservers, 3);
	assert_int_equal(cfg.coordinator, 0);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(ip(cfg.servers[i].listen.sin_addr),
		    "127.0.0.1");
		assert_int_equal(port(&cfg.servers[i].listen), 4300 + i);
		assert_false(sc_fault_active(sc_config_fault(&cfg, (uint32_t)i)));
	}
	/* the file states the defaults */
	{
		struct sc_config d;
		sc_config_defaults(&d);
		assert_int_equal(cfg.heartbeat_ms, d.heartbeat_ms);
		assert_int_equal(cfg.failover_ms, d.failover_ms);
		assert_int_equal(cfg.mtu, d.mtu);
		assert_int_equal(cfg.nack_delay_ms, d.nack_delay_ms);
		assert_int_equal(cfg.nack_backoff_max_ms,
		    d.nack_backoff_max_ms);
		assert_int_equal(cfg.report_ms, d.report_ms);
		assert_int_equal(cfg.forward_retry_ms, d.forward_retry_ms);
		assert_int_equal(cfg.retx_window_ms, d.retx_window_ms);
		assert_true(cfg.store_bytes == d.store_bytes);
		assert_int_equal(cfg.dedup_max, d.dedup_max);
		assert_int_equal(cfg.pending_max, d.pending_max);
		assert_int_equal(cfg.holdback_max, d.holdback_max);
		assert_int_equal(cfg.value_max, d.value_max);
		assert_string_equal(cfg.data_dir, "");
	}

	assert_int_equal(sc_config_load(&cfg, "etc/lossy.conf", err,
	    sizeof err), 0);
	assert_int_equal(cfg.cluster_id, 2);
	assert_string_equal(ip(cfg.group.sin_addr), "239.255.42.98");
	assert_int_equal(port(&cfg.group), 4298);
	assert_int_equal(cfg.nservers, 3);
	for (int i = 0; i < 3; i++) {
		const struct sc_fault_conf *f =
		    sc_config_fault(&cfg, (uint32_t)i);
		assert_int_equal(port(&cfg.servers[i].listen), 4310 + i);
		assert_true(sc_fault_active(f));
		assert_true(f->dir[SC_IN].drop > 0.0999 &&
		    f->dir[SC_IN].drop < 0.1001);
		assert_true(f->seed != 0);
	}
}

static void test_load_errors(void **state)
{
	char path[] = "/tmp/seqcast-test-XXXXXX";
	const char text[] = "[cluster]\n; comment\n\nid = x\n";
	int fd;

	(void)state;
	assert_int_equal(sc_config_load(&cfg, "/nonexistent/x.conf", err,
	    sizeof err), -1);
	assert_string_equal(err,
	    "/nonexistent/x.conf: cannot open: No such file or directory");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1),
	    (ssize_t)(sizeof text - 1));
	close(fd);
	assert_int_equal(sc_config_load(&cfg, path, err, sizeof err), -1);
	{
		char want[256];
		snprintf(want, sizeof want, "%s:4: key 'id': not a number: "
		    "'x'", path);
		assert_string_equal(err, want);
	}

	/* a NUL byte in a file */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[cluster]\nid = 1\0\n", 18), 18);
	close(fd);
	assert_int_equal(sc_config_load(&cfg, path, err, sizeof err), -1);
	{
		char want[256];
		snprintf(want, sizeof want, "%s:2: NUL byte in file", path);
		assert_string_equal(err, want);
	}
	unlink(path);

	/* a directory */
	assert_int_equal(sc_config_load(&cfg, "/tmp", err, sizeof err), -1);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");
}

static void test_set(void **state)
{
	const struct sc_fault_conf *f;

	(void)state;
	assert_int_equal(parse("[cluster]\nid = 1\ngroup = 239.1.1.1:1\n"
	    "fault_in_dup = 0.1\nfault_seed = 5\n"
	    "[server 0]\nlisten = 1.2.3.4:5\n"
	    "[server 1]\nlisten = 1.2.3.4:6\n"
	    "[server 2]\nlisten = 1.2.3.4:7\nfault_out_drop = 0.3\n"), 0);

	/* a cluster key */
	assert_int_equal(sc_config_set(&cfg, 1, "heartbeat_ms=20", err,
	    sizeof err), 0);
	assert_int_equal(cfg.heartbeat_ms, 20);
	assert_int_equal(sc_config_set(&cfg, 1, "  store_bytes =  1M ", err,
	    sizeof err), 0);
	assert_true(cfg.store_bytes == 1u << 20);
	/* nack_delay_ms: a number, or auto (the default) */
	assert_int_equal(sc_config_set(&cfg, 1, "nack_delay_ms=7", err,
	    sizeof err), 0);
	assert_int_equal(cfg.nack_delay_ms, 7);
	assert_int_equal(sc_config_set(&cfg, 1, "nack_delay_ms=auto", err,
	    sizeof err), 0);
	assert_true(cfg.nack_delay_ms == SC_NACK_DELAY_AUTO);
	assert_int_equal(sc_config_set(&cfg, 1, "nack_delay_ms=autox", err,
	    sizeof err), -1);
	assert_true(cfg.nack_delay_ms == SC_NACK_DELAY_AUTO);

	/* a fault key: server 1 starts from a copy of the cluster's */
	assert_int_equal(sc_config_set(&cfg, 1, "fault_in_drop=0.5", err,
	    sizeof err), 0);
	assert_true(cfg.servers[1].has_fault);
	f = sc_config_fault(&cfg, 1);
	assert_true(f->dir[SC_IN].drop == 0.5);
	assert_true(f->dir[SC_IN].dup == 0.1);
	assert_true(f->seed == 5);
	/* ... and keeps its own afterwards */
	assert_int_equal(sc_config_set(&cfg, 1, "fault_types=data", err,
	    sizeof err), 0);
	assert_true(f->dir[SC_IN].drop == 0.5);
	assert_int_equal(f->types, 1u << SC_DATA);
	/* the cluster's and server 0's are untouched */
	assert_true(cfg.fault.dir[SC_IN].drop == 0);
	assert_int_equal(cfg.fault.types, 0);
	assert_false(cfg.servers[0].has_fault);
	/* server 2 had its own: it is extended, not replaced */
	assert_int_equal(sc_config_set(&cfg, 2, "fault_in_drop=20%", err,
	    sizeof err), 0);
	f = sc_config_fault(&cfg, 2);
	assert_true(f->dir[SC_OUT].drop == 0.3);
	assert_true(f->dir[SC_IN].drop == 0.2);
	assert_true(f->dir[SC_IN].dup == 0);

	/* server keys */
	assert_int_equal(sc_config_set(&cfg, 0, "interface=10.0.0.1", err,
	    sizeof err), 0);
	assert_true(cfg.servers[0].has_interface);
	assert_string_equal(ip(cfg.servers[0].interface), "10.0.0.1");
	assert_string_equal(ip(cfg.interface), "127.0.0.1");
	assert_int_equal(sc_config_set(&cfg, 0, "data_dir=/tmp/s0", err,
	    sizeof err), 0);
	assert_string_equal(cfg.servers[0].data_dir, "/tmp/s0");
	assert_int_equal(sc_config_set(&cfg, 0, "listen=1.2.3.4:9", err,
	    sizeof err), 0);
	assert_int_equal(port(&cfg.servers[0].listen), 9);
	assert_int_equal(sc_config_set(&cfg, 0, "listen=1.2.3.4:9", err,
	    sizeof err), 0); /* its own address again: fine */
	assert_int_equal(sc_config_set(&cfg, 2, "coordinator=2", err,
	    sizeof err), 0);
	assert_int_equal(cfg.coordinator, 2);

	/* errors leave the configuration alone */
	assert_int_equal(sc_config_set(&cfg, 0, "bogus=1", err, sizeof err),
	    -1);
	assert_string_equal(err, "key 'bogus': unknown key");
	assert_int_equal(sc_config_set(&cfg, 0, "heartbeat_ms=abc", err,
	    sizeof err), -1);
	assert_string_equal(err, "key 'heartbeat_ms': not a number: 'abc'");
	assert_int_equal(cfg.heartbeat_ms, 20);
	assert_int_equal(sc_config_set(&cfg, 0, "fault_in_drop=1.5", err,
	    sizeof err), -1);
	assert_false(cfg.servers[0].has_fault);
	assert_int_equal(sc_config_set(&cfg, 1, "fault_in_dup=0.6", err,
	    sizeof err), -1);
	assert_string_equal(err, "key 'fault_in_dup': fault_in_* "
	    "probabilities add up to more than 1 (1.1)");
	assert_true(sc_config_fault(&cfg, 1)->dir[SC_IN].dup == 0.1);
	assert_int_equal(sc_config_set(&cfg, 0, "listen=1.2.3.4:6", err,
	    sizeof err), -1);
	assert_string_equal(err, "key 'listen': address '1.2.3.4:6' already "
	    "used by [server 1]");
	assert_int_equal(sc_config_set(&cfg, 0, "coordinator=3", err,
	    sizeof err), -1);
	assert_string_equal(err, "key 'coordinator': no [server 3] in the "
	    "configuration");
	assert_int_equal(cfg.coordinator, 2);
	assert_int_equal(sc_config_set(&cfg, 3, "fault_in_drop=0.1", err,
	    sizeof err), -1);
	assert_string_equal(err, "key 'fault_in_drop': no [server 3] in the "
	    "configuration");
	assert_int_equal(sc_config_set(&cfg, 0, "heartbeat_ms", err,
	    sizeof err), -1);
	assert_string_equal(err, "expected key=value: 'heartbeat_ms'");
	assert_int_equal(sc_config_set(&cfg, 0, "=5", err, sizeof err), -1);
	assert_int_equal(sc_config_set(&cfg, 0, "id=", err, sizeof err), -1);
	assert_string_equal(err, "key 'id': not a number: ''");
}

/* ------------------------------------------------------------------ */
/* the digest of the shared settings */

#define D_SERVERS \
	"[server 0]\nlisten = 127.0.0.1:6000\n" \
	"[server 1]\nlisten = 127.0.0.1:6001\n" \
	"[server 2]\nlisten = 127.0.0.1:6002\n"
#define D_BASE "[cluster]\nid = 7\ngroup = 239.1.2.3:5000\n" D_SERVERS

static void digest_of(const char *text, struct sc_config_digest *d)
{
	if (parse(text) != 0) {
		print_error("text:\n%s\nerror: %s\n", text, err);
		fail();
	}
	memset(d, 0xa5, sizeof *d);
	sc_config_digest(&cfg, d);
}

/* Key order, comments, explicit defaults, the order of the sections and
 * every per-server key leave the digest alone. */
static void test_digest_same_settings(void **state)
{
	static const char other[] =
	    "; the same cluster, written differently\n"
	    "[server 2]\n"
	    "data_dir = /srv/two      ; per server\n"
	    "listen = 127.0.0.1:6002\n"
	    "interface = 127.0.0.1\n"
	    "fault_in_drop = 10%\n"
	    "[cluster]\n"
	    "group = 239.1.2.3:5000\n"
	    "  coordinator = 0\n"
	    "heartbeat_ms = 50\n"
	    "failover_ms = 150\n"
	    "value_max = 1024\n"
	    "id = 7\n"
	    "interface = 10.0.0.1\n"
	    "ttl = 3\n"
	    "mtu = 9000\n"
	    "data_dir = /var/lib/x\n"
	    "fsync = never\n"
	    "fsync_interval_ms = 5\n"
	    "nack_delay_ms = 9\n"
	    "nack_backoff_max_ms = 99\n"
	    "report_ms = 7\n"
	    "forward_retry_ms = 8\n"
	    "retx_window_ms = 3\n"
	    "store_bytes = 1G\n"
	    "dedup_max = 5\n"
	    "pending_max = 6\n"
	    "holdback_max = 7\n"
	    "add_rate = 10\n"
	    "catchup_rate = 11\n"
	    "fault_out_dup = 0.5\n"
	    "fault_seed = 9\n"
	    "[server 0]\n"
	    "listen = 127.0.0.1:6000\n"
	    "[server 1]\n"
	    "listen = 127.0.0.1:6001\n"
	    "fault_types = data\n";
	struct sc_config_digest a, b;
	char buf[128] = "x";

	(void)state;
	digest_of(D_BASE, &a);
	digest_of(other, &b);
	assert_memory_equal(&a, &b, sizeof a);
	assert_int_equal(sc_config_digest_diff(&a, &b, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	/* the key file's path is per server; whether there is one is not */
	digest_of("[cluster]\nid = 7\ngroup = 239.1.2.3:5000\n"
	    "key_file = /etc/seqcast/key\n" D_SERVERS, &a);
	digest_of("[cluster]\nid = 7\ngroup = 239.1.2.3:5000\n"
	    "key_file = key\n" D_SERVERS, &b);
	assert_memory_equal(&a, &b, sizeof a);
}

/* Each shared setting changed alone changes exactly its part. */
static void test_digest_each_part(void **state)
{
	static const struct {
		const char *id, *group, *extra, *servers;
		int part;
	} cases[] = {
		{ "8", NULL, "", NULL, SC_DIGEST_ID },
		{ NULL, NULL, "coordinator = 1", NULL, SC_DIGEST_COORDINATOR },
		{ NULL, NULL, "coordinator = 2", NULL, SC_DIGEST_COORDINATOR },
		{ NULL, NULL, "", "[server 0]\nlisten = 127.0.0.1:6000\n"
		    "[server 1]\nlisten = 127.0.0.1:6001\n"
		    "[server 2]\nlisten = 127.0.0.1:6003\n",
		    SC_DIGEST_MEMBERS },
		{ NULL, NULL, "", "[server 0]\nlisten = 127.0.0.1:6000\n"
		    "[server 1]\nlisten = 127.0.0.2:6001\n"
		    "[server 2]\nlisten = 127.0.0.1:6002\n",
		    SC_DIGEST_MEMBERS },
		{ NULL, NULL, "", "[server 0]\nlisten = 127.0.0.1:6001\n"
		    "[server 1]\nlisten = 127.0.0.1:6000\n"
		    "[server 2]\nlisten = 127.0.0.1:6002\n",
		    SC_DIGEST_MEMBERS },
		{ NULL, NULL, "", D_SERVERS
		    "[server 3]\nlisten = 127.0.0.1:6003\n",
		    SC_DIGEST_MEMBERS },
		{ NULL, NULL, "", "[server 0]\nlisten = 127.0.0.1:6000\n"
		    "[server 1]\nlisten = 127.0.0.1:6001\n",
		    SC_DIGEST_MEMBERS },
		{ NULL, "239.1.2.3:5001", "", NULL, SC_DIGEST_GROUP },
		{ NULL, "239.1.2.4:5000", "", NULL, SC_DIGEST_GROUP },
		{ NULL, NULL, "key_file = k", NULL, SC_DIGEST_KEY },
		{ NULL, NULL, "value_max = 512", NULL, SC_DIGEST_VALUE_MAX },
		{ NULL, NULL, "heartbeat_ms = 20", NULL, SC_DIGEST_HEARTBEAT },
		{ NULL, NULL, "failover_ms = 300", NULL, SC_DIGEST_FAILOVER },
	};
	struct sc_config_digest base, d;
	char text[1024], buf[128];

	(void)state;
	digest_of(D_BASE, &base);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "[cluster]\nid = %s\n"
		    "group = %s\n%s\n%s", cases[i].id ? cases[i].id : "7",
		    cases[i].group ? cases[i].group : "239.1.2.3:5000",
		    cases[i].extra,
		    cases[i].servers ? cases[i].servers : D_SERVERS);
		digest_of(text, &d);
		for (int p = 0; p < SC_DIGEST_PARTS; p++) {
			if ((base.part[p] != d.part[p]) != (p == cases[i].part)) {
				print_error("case %zu: part %s %s\n", i,
				    sc_config_digest_part_name(p),
				    p == cases[i].part ? "unchanged" :
				    "changed");
				fail();
			}
		}
		assert_int_equal(sc_config_digest_diff(&base, &d, buf,
		    sizeof buf), 1);
		assert_string_equal(buf,
		    sc_config_digest_part_name(cases[i].part));
	}
	/* an override on the command line counts like the file */
	assert_int_equal(parse(D_BASE), 0);
	assert_int_equal(sc_config_set(&cfg, 0, "coordinator=1", err,
	    sizeof err), 0);
	sc_config_digest(&cfg, &d);
	assert_int_equal(sc_config_digest_diff(&base, &d, buf, sizeof buf), 1);
	assert_string_equal(buf, "coordinator");
}

static void test_digest_diff_sentence(void **state)
{
	struct sc_config_digest a, b;
	char buf[256], small[8];

	(void)state;
	digest_of(D_BASE, &a);
	digest_of("[cluster]\nid = 7\ngroup = 239.1.2.3:5000\n"
	    "coordinator = 1\n[server 0]\nlisten = 127.0.0.1:6000\n"
	    "[server 1]\nlisten = 127.0.0.1:6001\n", &b);
	assert_int_equal(sc_config_digest_diff(&a, &b, buf, sizeof buf), 2);
	assert_string_equal(buf, "coordinator, members");
	assert_int_equal(sc_config_digest_diff(&b, &a, buf, sizeof buf), 2);
	assert_string_equal(buf, "coordinator, members");
	/* cut to the buffer, counted all the same */
	assert_int_equal(sc_config_digest_diff(&a, &b, small, sizeof small),
	    2);
	assert_string_equal(small, "coordin");
	assert_int_equal(sc_config_digest_diff(&a, &b, NULL, 0), 2);
	/* every part */
	for (int p = 0; p < SC_DIGEST_PARTS; p++)
		b.part[p] = a.part[p] ^ 1;
	assert_int_equal(sc_config_digest_diff(&a, &b, buf, sizeof buf),
	    SC_DIGEST_PARTS);
	assert_string_equal(buf, "id, coordinator, members, group, key_file, "
	    "value_max, heartbeat_ms, failover_ms");
	assert_string_equal(sc_config_digest_part_name(-1), "?");
	assert_string_equal(sc_config_digest_part_name(SC_DIGEST_PARTS), "?");
}

/* The encoding is the documented one, byte for byte: FNV-1a over the
 * part's number and big-endian values. */
static uint32_t fnv1a(const uint8_t *b, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static void test_digest_encoding(void **state)
{
	static const uint8_t id[] = { SC_DIGEST_ID, 0, 0, 0, 7 };
	static const uint8_t members[] = { SC_DIGEST_MEMBERS,
	    0, 0, 0, 1,                  /* nservers */
	    0, 0, 0, 0, 127, 0, 0, 1,    /* server 0 at 127.0.0.1 */
	    0x17, 0x70 };                /* port 6000 */
	static const uint8_t group[] = { SC_DIGEST_GROUP, 239, 1, 2, 3,
	    0x13, 0x88 };
	static const uint8_t key[] = { SC_DIGEST_KEY, 0, 0, 0, 0 };
	static const uint8_t failover[] = { SC_DIGEST_FAILOVER, 0, 0, 0, 150 };
	struct sc_config_digest d;

	(void)state;
	digest_of(MINIMAL, &d);
	assert_int_equal(d.part[SC_DIGEST_ID], fnv1a(id, sizeof id));
	assert_int_equal(d.part[SC_DIGEST_MEMBERS],
	    fnv1a(members, sizeof members));
	assert_int_equal(d.part[SC_DIGEST_GROUP], fnv1a(group, sizeof group));
	assert_int_equal(d.part[SC_DIGEST_KEY], fnv1a(key, sizeof key));
	assert_int_equal(d.part[SC_DIGEST_FAILOVER],
	    fnv1a(failover, sizeof failover));
}

static void test_parse_addr(void **state)
{
	struct sockaddr_in sa;
	static const char *const bad[] = {
		"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3:4", "1.2.3.4.5:6",
		"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+1",
		"1.2.3.4:1x", "1.2.3.4: 1", " 1.2.3.4:1", "1.2.3.4:1 ",
		"256.1.1.1:1", "01.2.3.4:1", "1.2.3.4:01", "a.b.c.d:1",
		"1..3.4:1", "1.2.3.4:99999999999999999999", "0x1.2.3.4:1",
		"1.2.3.4::1", "1.2.3.-4:1", "1234.2.3.4:1",
	};

	(void)state;
	assert_int_equal(sc_parse_addr("127.0.0.1:4300", &sa), 0);
	assert_int_equal(sa.sin_family, AF_INET);
	assert_int_equal(ntohl(sa.sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(sa.sin_port), 4300);
	assert_int_equal(sc_parse_addr("0.0.0.0:1", &sa), 0);
	assert_int_equal(sc_parse_addr("255.255.255.255:65535", &sa), 0);
	assert_int_equal(ntohs(sa.sin_port), 65535);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (sc_parse_addr(bad[i], &sa) != -1) {
			print_error("accepted '%s'\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(sc_parse_addr(NULL, &sa), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_minimal_gets_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_layout_tolerance),
		cmocka_unit_test(test_errors_cluster_keys),
		cmocka_unit_test(test_failover_and_mtu),
		cmocka_unit_test(test_errors_group),
		cmocka_unit_test(test_errors_servers),
		cmocka_unit_test(test_errors_whole_file),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_bad_section_line_in_file),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_error_leaves_config),
		cmocka_unit_test(test_etc_files),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_digest_same_settings),
		cmocka_unit_test(test_digest_each_part),
		cmocka_unit_test(test_digest_diff_sentence),
		cmocka_unit_test(test_digest_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
