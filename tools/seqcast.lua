-- seqcast.lua - Wireshark/tshark dissector for seqcast datagrams.
--
--   tshark -X lua_script:tools/seqcast.lua -r capture.pcapng -Y seqcast
--   tshark -X lua_script:tools/seqcast.lua -i lo -f udp -O seqcast
--
-- or copy it into ~/.local/lib/wireshark/plugins/ (make install puts it in
-- $(PREFIX)/share/seqcast/seqcast.lua). It registers as a heuristic UDP
-- dissector that checks the magic "SQC1" and the protocol version, so any
-- port works. A port another dissector already claims (4305-4307 are
-- B.A.T.M.A.N.'s) needs "-o udp.try_heuristic_first:TRUE".
--
-- The wire format (include/seqcast/wire.h, daemon/wire.c): a 28-byte
-- header in network byte order
--
--   off size field
--     0   4  magic    "SQC1"
--     4   1  version  2
--     5   1  type     MESSAGES below
--     6   2  flags    0x0001: a MAC trailer follows the body
--     8   4  cluster  cluster id (0 from a client: "the server's cluster")
--    12   4  sender   server id, 0xffffffff for a client
--    16   4  view     the sender's view (VIEW_CHANGE: the view it asks
--                     for); 0 from a client
--    20   4  config   digest of the sender's shared cluster settings
--                     (servers refuse a peer whose digest differs); 0
--                     from a client
--    24   4  body_len length of the tpl image that follows
--
-- then a libtpl image, then, with flag 0x0001, the trailer
-- (include/seqcast/auth.h): an 8-byte big-endian counter and a 32-byte
-- HMAC-SHA-512-256 tag.
--
-- A tpl image is "tpl", a flags byte (0x01: integers big-endian, else
-- little-endian; 0x02: string lengths are length + 1, 0 for NULL), a
-- uint32 image size (the whole image), the format string and its NUL,
-- then the data in format order: U 8 bytes, i 4 bytes, A(...) a uint32
-- count then the elements, B a uint32 length then the bytes, s a uint32
-- length then the bytes (no NUL). The image is walked by its own format
-- string, so a body whose format differs from the table's is still shown
-- (with a warning).

local seqcast = Proto("seqcast", "seqcast replicated log")

-- The message types (enum sc_type): one line each. Fields are named in
-- the order of the tpl format's scalars (struct sc_msg's a, b, c, d, e,
-- then the item's); those inside A(...) make up one item of the array,
-- shown as ITEM. To add a type, add its line (a field name used by
-- several types must have the same tpl type everywhere, and must not be
-- a header field's; the script checks). "reserved" is a scalar the
-- daemon sends as 0 and ignores. The names follow what the daemon puts
-- there, which is more than wire.h's comments say in places: HEARTBEAT
-- and RECOVERY_REPLY carry the sender's state and last normal view in d
-- and e (daemon/node_repair.c), REPORT a heartbeat-starved flag in c,
-- VIEW_CHANGE an "already in it" flag in d, RECOVERY a probe flag in b
-- (daemon/node_view.c); DO_VIEW's d, wire.h's "flags", is sent as 0.
local MESSAGES = {
	-- type  name              tpl format     fields, in format order                          item
	{  1, "ADD",            "UA(UUB)",     { "cookie", "client", "req", "value" },               "request" },
	{  2, "FWD",            "UA(UUB)",     { "reserved", "client", "req", "value" },             "request" },
	{  3, "DATA",           "UUUA(UUUB)",  { "head", "commit", "stamp_view",
	                                         "id", "client", "req", "value" },                  "entry" },
	{  4, "RETX",           "UUUA(UUUB)",  { "head", "commit", "stamp_view",
	                                         "id", "client", "req", "value" },                  "entry" },
	{  5, "ACK",            "UA(UUUi)",    { "applied", "client", "req", "id", "status" },      "ack" },
	{  6, "STAMPED",        "UA(UUUi)",    { "head", "client", "req", "id", "status" },         "ack" },
	{  7, "HEARTBEAT",      "UUUUUA(UU)",  { "head", "commit", "stable", "state", "normal_view",
	                                         "first", "seg_view" },                             "segment" },
	{  8, "NACK",           "UA(UU)",      { "applied", "first", "last" },                     "range" },
	{  9, "REPORT",         "UUUU",        { "vouched", "applied", "starved", "reserved" } },
	{ 10, "GONE",           "UA(UU)",      { "reserved", "first", "last" },                     "range" },
	{ 11, "LOG_REQ",        "UUUU",        { "cookie", "from", "max", "wait_ms" } },
	{ 12, "LOG_REPLY",      "UUUA(UUUB)",  { "applied", "reserved", "reserved",
	                                         "id", "client", "req", "value" },                  "entry" },
	{ 13, "STATS_REQ",      "UUUU",        { "cookie", "nonce", "offset", "reserved" } },
	{ 14, "STATS_REPLY",    "UUs",         { "total", "offset", "json" } },
	{ 15, "VIEW_CHANGE",    "UUUU",        { "reserved", "reserved", "reserved", "joined" } },
	{ 16, "DO_VIEW",        "UUUU",        { "normal_view", "op", "commit", "reserved" } },
	{ 17, "RECOVERY",       "UUUU",        { "nonce", "probe", "reserved", "reserved" } },
	{ 18, "RECOVERY_REPLY", "UUUUUA(UU)",  { "head", "commit", "nonce", "state", "normal_view",
	                                         "first", "seg_view" },                             "segment" },
	{ 19, "CONFIG",         "UA(UU)",      { "parts", "part", "hash" },                         "part" },
	{ 20, "COOKIE",         "UUUU",        { "cookie", "nonce", "reserved", "reserved" } },
}

-- How a field is shown, where its name alone would not say it.
local LABELS = {
	client = "Client id", req = "Request number", id = "Entry id",
	value = "Value", status = "Status",
	cookie = "Cookie (0: none)",
	head = "Head (highest id the sender holds durably)",
	commit = "Commit (highest id known committed)",
	stamp_view = "View the entries were stamped in",
	applied = "Applied id",
	stable = "Stable id (applied everywhere; 0: not known)",
	state = "Sender's state",
	normal_view = "Last view the sender was normal in",
	first = "First id", last = "Last id",
	seg_view = "View (ids from First id on were stamped in it)",
	vouched = "Durable id vouched for (held durably, up to the claim)",
	starved = "Coordinator's heartbeats missed (1: none for 2 intervals)",
	from = "From id (0: 1)", max = "Max entries (0: as many as fit)",
	wait_ms = "Wait (ms)",
	nonce = "Nonce", offset = "Offset in the statistics text",
	total = "Total length of the statistics text",
	json = "Statistics (JSON, one page)",
	joined = "Sender is in that view change (1: a majority asked)",
	op = "Op (highest id held, up to the claim)",
	probe = "Probe (1: asks only where the cluster stands)",
	parts = "Digest parts", part = "Digest part",
	hash = "Hash (32-bit FNV-1a of the part's settings)",
	reserved = "Reserved (0)",
}
-- Values with names (enum sc_status; enum sc_digest_part in
-- include/seqcast/config.h).
local VALUE_STRINGS = {
	status = { [0] = "ok", [1] = "too large", [2] = "busy", [3] = "unavailable" },
	part = { [0] = "id", [1] = "coordinator", [2] = "members", [3] = "group",
	    [4] = "key_file", [5] = "value_max", [6] = "heartbeat_ms",
	    [7] = "failover_ms" },
}
-- Fields shown in hexadecimal (the others in decimal).
local HEX = { hash = true }
-- Values with a structure: name -> function(value as a number) -> text.
-- state: enum sc_node_status in bits 0-7, fresh (never in a view, holds
-- nothing) bit 8, cold start under way bit 9 (daemon/node_repair.c).
local NODE_STATUS = { [0] = "recovering", [1] = "normal", [2] = "view_change" }
local DESCRIBE = {
	state = function(v)
		local s = NODE_STATUS[v % 256] or ("status " .. v % 256)
		if math.floor(v / 256) % 2 == 1 then s = s .. ", fresh" end
		if math.floor(v / 512) % 2 == 1 then s = s .. ", cold start" end
		return s
	end,
}

local MAGIC = "SQC1"
local VERSION = 2
local HEADER_LEN = 28
local MAC_FLAG = 0x0001
local TRAILER_LEN = 8 + 32
local SENDER_CLIENT = 0xffffffff

local TPL_BIG = 0x01
local TPL_NULLSTRINGS = 0x02

-- ------------------------------------------------------------ fields

local type_names = {}
local by_type = {}
for _, m in ipairs(MESSAGES) do
	type_names[m[1]] = m[2]
	by_type[m[1]] = { name = m[2], fmt = m[3], fields = m[4], item = m[5] }
end

local hf = {
	magic = ProtoField.string("seqcast.magic", "Magic"),
	version = ProtoField.uint8("seqcast.version", "Version"),
	type = ProtoField.uint8("seqcast.type", "Type", base.DEC, type_names),
	flags = ProtoField.uint16("seqcast.flags", "Flags", base.HEX),
	flag_mac = ProtoField.bool("seqcast.flags.mac", "MAC trailer", 16,
	    { "present", "absent" }, MAC_FLAG),
	cluster = ProtoField.uint32("seqcast.cluster", "Cluster"),
	sender = ProtoField.uint32("seqcast.sender", "Sender"),
	view = ProtoField.uint32("seqcast.view", "View"),
	config = ProtoField.uint32("seqcast.config", "Config digest", base.HEX),
	body_len = ProtoField.uint32("seqcast.body_len", "Body length"),
	tpl_magic = ProtoField.string("seqcast.tpl.magic", "tpl magic"),
	tpl_flags = ProtoField.uint8("seqcast.tpl.flags", "tpl flags", base.HEX),
	tpl_big = ProtoField.bool("seqcast.tpl.flags.big_endian",
	    "Big-endian integers", 8, nil, TPL_BIG),
	tpl_nulls = ProtoField.bool("seqcast.tpl.flags.null_strings",
	    "String lengths + 1", 8, nil, TPL_NULLSTRINGS),
	tpl_size = ProtoField.uint32("seqcast.tpl.size", "tpl image size"),
	tpl_format = ProtoField.stringz("seqcast.tpl.format", "tpl format"),
	count = ProtoField.uint32("seqcast.count", "Items"),
	value_len = ProtoField.uint32("seqcast.value_len", "Value length"),
	string_len = ProtoField.uint32("seqcast.string_len", "String length word"),
	mac_counter = ProtoField.uint64("seqcast.mac.counter", "MAC counter"),
	mac_tag = ProtoField.bytes("seqcast.mac.tag", "MAC tag (HMAC-SHA-512-256)"),
	-- fields of a type missing from MESSAGES, by tpl type
	any_U = ProtoField.uint64("seqcast.tpl.U", "uint64"),
	any_u = ProtoField.uint32("seqcast.tpl.u", "uint32"),
	any_I = ProtoField.int64("seqcast.tpl.I", "int64"),
	any_i = ProtoField.int32("seqcast.tpl.i", "int32"),
	any_c = ProtoField.uint8("seqcast.tpl.c", "char"),
	any_f = ProtoField.double("seqcast.tpl.f", "double"),
	any_B = ProtoField.bytes("seqcast.tpl.B", "binary"),
	any_s = ProtoField.string("seqcast.tpl.s", "string"),
}

-- tpl type -> ProtoField constructor for a named field. Value strings
-- of 64-bit fields are appended to the item's text by the walker instead
-- (not every Wireshark takes them on a 64-bit ProtoField).
local SCALARS = { U = 8, u = 4, I = 8, i = 4, c = 1, f = 8 }
local WIDE = { U = true, I = true }
local function make_field(name, t)
	local abbr, label = "seqcast." .. name, LABELS[name] or name
	local vs = VALUE_STRINGS[name]
	local b = HEX[name] and base.HEX or base.DEC
	if t == "U" then return ProtoField.uint64(abbr, label, b)
	elseif t == "u" then return ProtoField.uint32(abbr, label, b, vs)
	elseif t == "I" then return ProtoField.int64(abbr, label, base.DEC)
	elseif t == "i" then return ProtoField.int32(abbr, label, base.DEC, vs)
	elseif t == "c" then return ProtoField.uint8(abbr, label, base.DEC, vs)
	elseif t == "f" then return ProtoField.double(abbr, label)
	elseif t == "B" then return ProtoField.bytes(abbr, label)
	elseif t == "s" then return ProtoField.string(abbr, label)
	end
	error("seqcast.lua: field '" .. name .. "': unknown tpl type " .. t)
end

-- The scalar type letters of a format, in order ("UA(UUUB)" -> U U U U B).
local function format_letters(fmt)
	local out = {}
	for ch in fmt:gmatch("[UuIicfBs]") do out[#out + 1] = ch end
	return out
end

-- A ProtoField per field name of the table, checked against the formats.
local named = {}
local named_type = {}
for _, m in ipairs(MESSAGES) do
	local letters = format_letters(m[3])
	if #letters ~= #m[4] then
		error(("seqcast.lua: %s: format %s has %d fields, %d names given")
		    :format(m[2], m[3], #letters, #m[4]))
	end
	for k, name in ipairs(m[4]) do
		local t = letters[k]
		if hf[name] ~= nil then
			error(("seqcast.lua: %s: field '%s' is a header field's name")
			    :format(m[2], name))
		end
		if named_type[name] == nil then
			named_type[name] = t
			named[name] = make_field(name, t)
		elseif named_type[name] ~= t then
			error(("seqcast.lua: field '%s' is %s in %s but %s elsewhere")
			    :format(name, t, m[2], named_type[name]))
		end
	end
end

local list = {}
for _, f in pairs(hf) do list[#list + 1] = f end
for _, f in pairs(named) do list[#list + 1] = f end
seqcast.fields = list

local ef = {
	malformed = ProtoExpert.new("seqcast.malformed", "Malformed seqcast datagram",
	    expert.group.MALFORMED, expert.severity.ERROR),
	format = ProtoExpert.new("seqcast.format_mismatch",
	    "tpl format differs from the one this type must have",
	    expert.group.PROTOCOL, expert.severity.WARN),
	unknown = ProtoExpert.new("seqcast.unknown_type", "Message type unknown to this dissector",
	    expert.group.UNDECODED, expert.severity.WARN),
	trailer = ProtoExpert.new("seqcast.trailer", "Bytes after the body do not match the MAC flag",
	    expert.group.PROTOCOL, expert.severity.WARN),
	version = ProtoExpert.new("seqcast.version_unknown", "Wire format version unknown to this dissector",
	    expert.group.UNDECODED, expert.severity.WARN),
}
seqcast.experts = { ef.malformed, ef.format, ef.unknown, ef.trailer, ef.version }

-- ------------------------------------------------------------ tpl walker

-- Parse a format into a list of nodes: a letter, or { array = nodes }.
local function parse_format(fmt)
	local pos = 1
	local function seq(closing)
		local nodes = {}
		while pos <= #fmt do
			local ch = fmt:sub(pos, pos)
			if ch == ")" then
				if not closing then return nil end
				pos = pos + 1
				return nodes
			elseif ch == "A" and fmt:sub(pos + 1, pos + 1) == "(" then
				pos = pos + 2
				local inner = seq(true)
				if inner == nil then return nil end
				nodes[#nodes + 1] = { array = inner }
			elseif SCALARS[ch] or ch == "B" or ch == "s" then
				nodes[#nodes + 1] = ch
				pos = pos + 1
			else
				return nil	-- S(...), '#' lengths: not used by seqcast
			end
		end
		if closing then return nil end
		return nodes
	end
	return seq(false)
end

-- Printable form of a value for summaries: escaped as seqcast log prints it.
local function escape(s)
	return (s:gsub("[%c\\\127-\255]", function(c)
		if c == "\\" then return "\\\\" end
		if c == "\n" then return "\\n" end
		if c == "\t" then return "\\t" end
		if c == "\r" then return "\\r" end
		return ("\\x%02x"):format(c:byte())
	end))
end

-- State of one walk: the buffer, position, endianness, field names.
local Walk = {}
Walk.__index = Walk

function Walk:fail(tree, what)
	self.bad = true
	tree:add_proto_expert_info(ef.malformed, what)
end

function Walk:avail(n)
	return self.pos + n <= self.stop
end

function Walk:u32(at)
	local r = self.tvb(at, 4)
	return self.big and r:uint() or r:le_uint(), r
end

function Walk:add(tree, field, r)
	if self.big then return tree:add(field, r) end
	return tree:add_le(field, r)
end

-- Next field name, or nil past the table's names (or for an unknown type).
function Walk:next_name()
	self.k = self.k + 1
	return self.names and self.names[self.k]
end

-- One scalar, B or s field at self.pos; returns its shown text.
function Walk:scalar(tree, ch)
	local name = self:next_name()
	local field = name and named[name] or hf["any_" .. ch]
	if SCALARS[ch] then
		local n = SCALARS[ch]
		if not self:avail(n) then return self:fail(tree, "image ends inside a field") end
		local r = self.tvb(self.pos, n)
		self.pos = self.pos + n
		local v
		if ch == "U" then v = self.big and r:uint64() or r:le_uint64()
		elseif ch == "I" then v = self.big and r:int64() or r:le_int64()
		elseif ch == "i" then v = self.big and r:int() or r:le_int()
		elseif ch == "u" then v = self.big and r:uint() or r:le_uint()
		elseif ch == "f" then v = self.big and r:float() or r:le_float()
		else v = r:uint() end
		local item = self:add(tree, field, r)
		local vs = name and VALUE_STRINGS[name]
		local describe = name and DESCRIBE[name]
		local shown = tostring(v)
		if HEX[name] and ch == "U" then
			shown = "0x" .. v:tohex():gsub("^0+(%x)", "%1")
		end
		if describe then
			shown = describe(tonumber(shown))
			item:append_text(" (" .. shown .. ")")
		elseif vs and vs[tonumber(shown)] then
			shown = vs[tonumber(shown)]
			if WIDE[ch] then item:append_text(" (" .. shown .. ")") end
		end
		self.values[#self.values + 1] = { name = name or ch, v = v, shown = shown }
		return shown
	end
	-- B and s: a uint32 length word, then the bytes
	if not self:avail(4) then return self:fail(tree, "image ends inside a length word") end
	local n, lr = self:u32(self.pos)
	if ch == "s" and self.nullstrings then n = n > 0 and n - 1 or 0 end
	self.pos = self.pos + 4
	if not self:avail(n) then return self:fail(tree, "length word points past the image") end
	self:add(tree, ch == "B" and hf.value_len or hf.string_len, lr)
	local shown
	if n == 0 then
		tree:add(field, self.tvb(self.pos, 0))
		shown = '""'
	else
		local r = self.tvb(self.pos, n)
		tree:add(field, r)
		shown = escape(r:raw())
		if #shown > 64 then shown = shown:sub(1, 61) .. "..." end
		shown = '"' .. shown .. '"'
	end
	self.pos = self.pos + n
	self.values[#self.values + 1] = { name = name or ch, shown = shown, len = n }
	return shown
end

function Walk:nodes(tree, nodes)
	for _, node in ipairs(nodes) do
		if self.bad then return end
		if type(node) == "table" then
			self:array(tree, node.array)
		else
			self:scalar(tree, node)
		end
	end
end

-- Letters of parsed nodes (the names an empty array skips).
local function node_letters(nodes, out)
	out = out or {}
	for _, node in ipairs(nodes) do
		if type(node) == "table" then
			node_letters(node.array, out)
		else
			out[#out + 1] = node
		end
	end
	return out
end

-- Items shown in the summary as a pair: the name of the field that
-- follows "first" -> how the two are written.
local PAIRS = {
	last = "[%s,%s]",	-- a range of ids
	seg_view = "%s@v%s",	-- a segment: ids from first on, of that view
}

-- A(...): a uint32 count, then the elements, each an item of the tree.
function Walk:array(tree, nodes)
	if not self:avail(4) then return self:fail(tree, "image ends before an array count") end
	local count, r = self:u32(self.pos)
	self:add(tree, hf.count, r)
	self.pos = self.pos + 4
	self.count = count
	local first_k = self.k
	local label = self.item or "item"
	for e = 1, count do
		if self.bad then return end
		if self.stop - self.pos < #nodes then
			return self:fail(tree, ("array count %d is more than the image holds"):format(count))
		end
		self.k = first_k
		local start, nvalues = self.pos, #self.values
		local it = tree:add(seqcast, self.tvb(self.pos, 0), label)
		self:nodes(it, nodes)
		if self.bad then return end
		it:set_len(self.pos - start)
		local parts = {}
		for j = nvalues + 1, #self.values do
			local v = self.values[j]
			parts[#parts + 1] = v.name .. " " .. v.shown
			if v.name == "id" then
				self.ids[#self.ids + 1] = v.v
			elseif v.name == "first" then
				self.range_first = v.shown
			elseif PAIRS[v.name] then
				self.ranges[#self.ranges + 1] =
				    PAIRS[v.name]:format(self.range_first or "?", v.shown)
			end
		end
		it:set_text(("%s %d: %s"):format(label, e, table.concat(parts, ", ")))
	end
	if count == 0 then self.k = first_k + #node_letters(nodes) end
end

-- The tpl image in tvb[off, off + len); returns the walk (values, ids...).
local function dissect_tpl(tvb, tree, off, len, msg)
	local w = setmetatable({ tvb = tvb, pos = off, stop = off + len, k = 0,
	    values = {}, ids = {}, ranges = {}, names = msg and msg.fields,
	    item = msg and msg.item }, Walk)
	local body = tree:add(seqcast, tvb(off, len), "Body (tpl image)")
	if len < 8 or tvb(off, 3):string() ~= "tpl" then
		w:fail(body, "body is not a tpl image")
		return w
	end
	local flags = tvb(off + 3, 1):uint()
	w.big = bit.band(flags, TPL_BIG) ~= 0
	w.nullstrings = bit.band(flags, TPL_NULLSTRINGS) ~= 0
	body:add(hf.tpl_magic, tvb(off, 3))
	local ft = body:add(hf.tpl_flags, tvb(off + 3, 1))
	ft:add(hf.tpl_big, tvb(off + 3, 1))
	ft:add(hf.tpl_nulls, tvb(off + 3, 1))
	local size, sr = w:u32(off + 4)
	w:add(body, hf.tpl_size, sr)
	if size ~= len then
		body:add_proto_expert_info(ef.malformed,
		    ("tpl size %d, body length %d"):format(size, len))
	end
	local fstart = off + 8
	local fend = fstart
	while fend < w.stop and tvb(fend, 1):uint() ~= 0 do fend = fend + 1 end
	if fend >= w.stop then
		w:fail(body, "tpl format string has no end")
		return w
	end
	local fmt = tvb(fstart, fend - fstart):string()
	body:add(hf.tpl_format, tvb(fstart, fend - fstart + 1))
	w.fmt = fmt
	if msg and fmt ~= msg.fmt then
		body:add_proto_expert_info(ef.format,
		    ("format %s, %s must be %s"):format(fmt, msg.name, msg.fmt))
		w.names = nil	-- names belong to the expected format only
	end
	local nodes = parse_format(fmt)
	if nodes == nil then
		w:fail(body, "tpl format " .. fmt .. " is not one this dissector reads")
		return w
	end
	w.pos = fend + 1
	w:nodes(body, nodes)
	if not w.bad and w.pos ~= w.stop then
		body:add_proto_expert_info(ef.malformed,
		    ("%d bytes after the last field of the image"):format(w.stop - w.pos))
	end
	return w
end

-- ------------------------------------------------------------ the datagram

local function summary(msg, w, typeno, sender, view, flags)
	local parts = { msg and msg.name or ("type " .. typeno) }
	parts[#parts + 1] = sender == SENDER_CLIENT and "from client" or
	    ("from server " .. sender .. " view " .. view)
	-- the scalars before the array (the head fields), but the reserved
	for j = 1, math.min(w.head_n or 0, #w.values) do
		local v = w.values[j]
		if v.name ~= "reserved" then
			parts[#parts + 1] = v.name .. "=" .. v.shown
		end
	end
	if w.count then
		local item = msg and msg.item or "item"
		if w.count ~= 1 then item = item:gsub("y$", "ie") .. "s" end
		parts[#parts + 1] = w.count .. " " .. item
	end
	if #w.ids > 0 then
		parts[#parts + 1] = "ids " .. tostring(w.ids[1]) ..
		    (#w.ids > 1 and (".." .. tostring(w.ids[#w.ids])) or "")
	end
	if #w.ranges > 0 then
		local shown = {}
		for j = 1, math.min(#w.ranges, 4) do shown[j] = w.ranges[j] end
		parts[#parts + 1] = table.concat(shown, " ") .. (#w.ranges > 4 and " ..." or "")
	end
	if bit.band(flags, MAC_FLAG) ~= 0 then parts[#parts + 1] = "[MAC]" end
	return table.concat(parts, " ")
end

-- How many values come before the first array (shown in the summary).
local function head_count(fmt)
	local a = fmt:find("A%(")
	return #format_letters(a and fmt:sub(1, a - 1) or fmt)
end

local function dissect(tvb, pinfo, root)
	local len = tvb:len()
	pinfo.cols.protocol = "SEQCAST"
	local tree = root:add(seqcast, tvb(), "seqcast")
	if len < HEADER_LEN then
		tree:add_proto_expert_info(ef.malformed,
		    ("%d bytes, shorter than the %d-byte header"):format(len, HEADER_LEN))
		return len
	end
	local h = tree:add(seqcast, tvb(0, HEADER_LEN), "Header")
	h:add(hf.magic, tvb(0, 4))
	local vf = h:add(hf.version, tvb(4, 1))
	if tvb(4, 1):uint() ~= VERSION then
		vf:add_proto_expert_info(ef.version, ("version %d: this dissector reads version %d")
		    :format(tvb(4, 1):uint(), VERSION))
	end
	h:add(hf.type, tvb(5, 1))
	local fl = h:add(hf.flags, tvb(6, 2))
	fl:add(hf.flag_mac, tvb(6, 2))
	h:add(hf.cluster, tvb(8, 4))
	local sf = h:add(hf.sender, tvb(12, 4))
	if tvb(12, 4):uint() == SENDER_CLIENT then sf:append_text(" (client)") end
	h:add(hf.view, tvb(16, 4))
	h:add(hf.config, tvb(20, 4))
	h:add(hf.body_len, tvb(24, 4))
	local typeno = tvb(5, 1):uint()
	local flags = tvb(6, 2):uint()
	local sender = tvb(12, 4):uint()
	local view = tvb(16, 4):uint()
	local body_len = tvb(24, 4):uint()
	local msg = by_type[typeno]
	if msg == nil then
		h:add_proto_expert_info(ef.unknown, "message type " .. typeno .. " is not in MESSAGES")
	end
	local avail = len - HEADER_LEN
	local w
	if body_len > avail then
		tree:add_proto_expert_info(ef.malformed,
		    ("body length %d, %d bytes follow the header"):format(body_len, avail))
		w = { values = {}, ids = {}, ranges = {} }
	else
		w = dissect_tpl(tvb, tree, HEADER_LEN, body_len, msg)
	end
	local rest = avail - math.min(body_len, avail)
	local off = HEADER_LEN + body_len
	if bit.band(flags, MAC_FLAG) ~= 0 and rest == TRAILER_LEN then
		local t = tree:add(seqcast, tvb(off, TRAILER_LEN), "MAC trailer")
		t:add(hf.mac_counter, tvb(off, 8))
		t:add(hf.mac_tag, tvb(off + 8, 32))
	elseif rest > 0 or bit.band(flags, MAC_FLAG) ~= 0 then
		tree:add_proto_expert_info(ef.trailer,
		    ("%d bytes after the body, MAC flag %s (a trailer is %d)")
		    :format(rest, bit.band(flags, MAC_FLAG) ~= 0 and "set" or
		    "clear", TRAILER_LEN))
	end
	w.head_n = w.fmt and head_count(w.fmt) or 0
	local text = summary(msg, w, typeno, sender, view, flags)
	tree:set_text("seqcast " .. text)
	pinfo.cols.info = text
	return len
end

-- Heuristic: the magic and the version, and a body that fits.
local function heuristic(tvb, pinfo, root)
	local len = tvb:len()
	if len < HEADER_LEN then return false end
	if tvb(0, 4):string() ~= MAGIC or tvb(4, 1):uint() ~= VERSION then return false end
	if tvb(24, 4):uint() > len - HEADER_LEN then return false end
	dissect(tvb, pinfo, root)
	return true
end

seqcast.dissector = dissect
seqcast:register_heuristic("udp", heuristic)
