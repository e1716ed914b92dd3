// Helpers that write _config values into expressions and alert texts.
{
  // A Prometheus duration ("5m", "1h", "30s") in words: "5 minutes".
  duration(d)::
    local unit = std.substr(d, std.length(d) - 1, 1);
    local n = std.parseInt(std.substr(d, 0, std.length(d) - 1));
    local word = { s: 'second', m: 'minute', h: 'hour', d: 'day' }[unit];
    '%d %s%s' % [n, word, if n == 1 then '' else 's'],

  // A ratio as a percentage for people: 0.03 -> "3 %", 0.125 -> "12.5 %".
  percent(r):: std.toString(std.round(r * 10000) / 100) + ' %',

  // A number as PromQL reads it, in its shortest decimal form: jsonnet's
  // own formatting of 0.05 is 0.050000000000000003.
  number(x)::
    local shortest(p) =
      local s = std.format('%.' + p + 'f', x);
      if p >= 17 || std.parseJson(s) == x then s else shortest(p + 1);
    if x == std.floor(x) then '%d' % x
    else std.rstripChars(shortest(1), '0'),

  // o with its numbers written by number(), for "%(field)s" % numbers(o).
  numbers(o):: { [k]: if std.isNumber(o[k]) then $.number(o[k]) else o[k] for k in std.objectFields(o) },
}
