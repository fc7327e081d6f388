#!/usr/bin/env python3
"""Self-check of the gluster stand-in against the recorded GlusterFS 10.3 answers.

Runs ops/standin/gluster through a full lifecycle in a temporary state directory (host name "vm",
volumes mvol / svol / svol2, as on the lab the recordings come from) and, for every recorded file
in /work/shared/gluster-10.3 (or $GLUSTER_RECORDINGS), runs the same command at the same point of
the lifecycle and compares:
  - the exit status;
  - plain-text answers: the text itself;
  - XML answers: the element paths (attributes included) in document order, repeats folded:
    they must be equal, values may differ; opRet / opErrno / opErrstr must be equal;
  - answers without times or uuids (actions, failures, config set/reset/get): byte for byte.
Then checks what the recordings cannot show: lifecycle values, the journal, FAULTY, latency,
concurrency. Exits 1 on the first failed check. Usage: selfcheck.py [-v]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
GLUSTER = os.path.join(HERE, "gluster")
RECORDED = os.environ.get("GLUSTER_RECORDINGS", "/work/shared/gluster-10.3")
VERBOSE = "-v" in sys.argv
checked = []


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    checked.append(msg)
    if VERBOSE:
        print("ok   " + msg)


class Standin:
    def __init__(self, state, **env):
        self.state = state
        self.env = dict(os.environ)
        self.env.update({"GEOREP_STANDIN_STATE": state, "GEOREP_STANDIN_HOST": "vm",
                         "GEOREP_STANDIN_INIT_SECONDS": "0.6"})
        self.env.pop("GEOREP_STANDIN_FAULTY", None)
        self.env.pop("GEOREP_STANDIN_LATENCY_MS", None)
        self.env.update(env)

    def run(self, *args, env=None, xml=True):
        e = dict(self.env)
        e.update(env or {})
        argv = [GLUSTER] + (["--mode=script", "--xml"] if xml else []) + list(args)
        p = subprocess.run(argv, env=e, capture_output=True, text=True, timeout=60)
        return p.stdout + p.stderr, p.returncode

    def geo(self, *args, **kw):
        return self.run("volume", "geo-replication", *args, **kw)

    def journal(self):
        try:
            with open(os.path.join(self.state, "journal.jsonl")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []


def recorded(name):
    with open(os.path.join(RECORDED, name)) as f:
        text = f.read()
    body, _, last = text.rstrip("\n").rpartition("\n")
    if not last.startswith("rc="):
        fail("%s: no rc= line" % name)
    return body + "\n", int(last[3:])


def paths(text):
    """Element paths in document order, each once; attributes as path@name."""
    root = ET.fromstring(text)
    seen, order = set(), []

    def walk(e, prefix):
        p = prefix + "/" + e.tag
        for key in [p] + ["%s@%s" % (p, a) for a in sorted(e.attrib)]:
            if key not in seen:
                seen.add(key)
                order.append(key)
        for c in e:
            walk(c, p)
    walk(root, "")
    return order


def envelope(text):
    root = ET.fromstring(text)
    return tuple(root.findtext(k) for k in ("opRet", "opErrno", "opErrstr"))


def compare(name, got, exact=False, same_envelope=True):
    want_text, want_rc = recorded(name)
    text, rc = got
    if rc != want_rc:
        fail("%s: exit status %d, recorded %d\n%s" % (name, rc, want_rc, text))
    if not want_text.lstrip().startswith("<"):
        if text != want_text:
            fail("%s: plain text %r, recorded %r" % (name, text, want_text))
        ok("%s: plain text and exit status" % name)
        return text
    if not text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n'):
        fail("%s: not gluster's XML prologue:\n%s" % (name, text))
    a, b = paths(text), paths(want_text)
    if a != b:
        fail("%s: element paths differ\n  stand-in only: %s\n  recorded only: %s\n  order: %s"
             % (name, [p for p in a if p not in b], [p for p in b if p not in a], a == sorted(a, key=b.index)
                if set(a) == set(b) else "-"))
    if same_envelope and envelope(text) != envelope(want_text):
        fail("%s: envelope %s, recorded %s" % (name, envelope(text), envelope(want_text)))
    if exact and text != want_text:
        fail("%s: text differs\n--- stand-in\n%s--- recorded\n%s" % (name, text, want_text))
    ok("%s: %s" % (name, "byte for byte" if exact else "element paths, exit status, opRet/opErrno/opErrstr"))
    return text


def pairs(text):
    root = ET.fromstring(text)
    return [{c.tag: (c.text or "") for c in p} for p in root.iter("pair")]


def expect(cond, msg):
    if not cond:
        fail(msg)
    ok(msg)


def wait_active(g, sec="vm::svol", timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        text, _ = g.geo("mvol", sec, "status", "detail")
        if text.startswith("<") and all(p["status"] == "Active" for p in pairs(text)):
            return text
        time.sleep(0.1)
    fail("session %s did not become Active" % sec)


def lifecycle(g):
    # create (idempotent with force), failures, delete
    compare("create.xml", g.geo("mvol", "vm::svol2", "create", "push-pem", "force"), exact=True)
    compare("err-create-exists.xml", g.geo("mvol", "vm::svol2", "create", "push-pem", "force"), exact=True)
    compare("err-create-novol.xml", g.geo("mvol", "vm::nosuchvol", "create", "push-pem"), exact=True)
    compare("delete.xml", g.geo("mvol", "vm::svol2", "delete"), exact=True)
    compare("err-delete-nosuch.xml", g.geo("mvol", "vm::svol2", "delete"), exact=True)

    text, rc = g.geo("mvol", "vm::svol", "create", "push-pem")
    expect(rc == 0 and envelope(text) == ("0", "0", ""), "create mvol vm::svol")
    text, _ = g.geo("mvol", "vm::svol", "create", "push-pem")
    expect(envelope(text) == ("-1", "30800", "Session between mvol and vm::svol is already created."),
           "create without force of an existing session fails")
    text, _ = g.geo("mvol", "vm::svol", "status", "detail")
    expect({p["status"] for p in pairs(text)} == {"Created"}, "a created session's bricks are Created")

    compare("err-start-nosuch.xml", g.geo("mvol", "vm::nosuch", "start"), exact=True)
    compare("err-status-nosuch.xml", g.geo("mvol", "vm::nosuch", "status"))
    compare("err-status-novol.xml", g.geo("nosuchvol", "status"))

    # config while Created (no restart involved); a long change_interval keeps a checkpoint pending
    text = compare("config-all.xml", g.geo("mvol", "vm::svol", "config"))
    want = dict((e.tag, e.text or "") for e in ET.fromstring(recorded("config-all.xml")[0]).find("geoRep/config"))
    got = dict((e.tag, e.text or "") for e in ET.fromstring(text).find("geoRep/config"))
    diff = [k for k in want if k != "stime_xattr_prefix" and want[k] != got.get(k)]
    expect(not diff and list(want) == list(got), "config-all: every option and default as recorded %s" % diff)
    compare("config-get.xml", g.geo("mvol", "vm::svol", "config", "sync-jobs"), exact=True)
    compare("config-set.xml", g.geo("mvol", "vm::svol", "config", "sync-jobs", "5"), exact=True)
    text, _ = g.geo("mvol", "vm::svol", "config")
    expect("<sync_jobs>5</sync_jobs>" in text, "config set shows in config")
    text, _ = g.geo("mvol", "vm::svol", "config", "sync_jobs", "5")
    expect(envelope(text) == ("0", "0", ""), "setting the same value again: opRet 0, empty opErrstr")
    compare("config-reset.xml", g.geo("mvol", "vm::svol", "config", "!sync-jobs"), exact=True)
    text, _ = g.geo("mvol", "vm::svol", "config")
    expect("<sync_jobs>3</sync_jobs>" in text, "config reset restores the default")
    text, _ = g.geo("mvol", "vm::svol", "config", "sync-jobs", "500")
    expect(envelope(text) == ("-1", "30800", "geo-replication config-set failed for mvol vm::svol"),
           "an out-of-range value is refused as gsyncd refuses it")
    text, _ = g.geo("mvol", "vm::svol", "config", "no-such-option", "1")
    expect(envelope(text) == ("-1", "30800", "Invalid option") and "<geoRep/>" in text, "unknown option")
    text, _ = g.geo("mvol", "vm::svol", "config", "log-level", "verbose")
    expect(envelope(text)[2] == "Invalid value(verbose) for option log-level", "glusterd's value check")
    g.geo("mvol", "vm::svol", "config", "change_interval", "1000")

    # start
    compare("start.xml", g.geo("mvol", "vm::svol", "start"), exact=True)
    compare("err-start-already.xml", g.geo("mvol", "vm::svol", "start"), exact=True)
    text, _ = g.geo("mvol", "vm::svol", "status", "detail")
    expect({p["status"] for p in pairs(text)} == {"Initializing..."}, "right after start: Initializing...")
    text = wait_active(g)
    p = pairs(text)
    expect(all(x["secondary_node"] == "" and x["crawl_status"] == "Changelog Crawl" and x["entry"] == "0"
               and x["last_synced"] != "N/A" for x in p), "Active bricks: <secondary_node/>, Changelog Crawl")
    compare("status-session.xml", g.geo("mvol", "vm::svol", "status"))
    compare("status-detail-active.xml", g.geo("mvol", "vm::svol", "status", "detail"))
    text = compare("status-vol.xml", g.geo("mvol", "status"))
    expect(all(x["secondary"] == "ssh://vm::svol" for x in pairs(text)), "volume status: ssh:// secondary")
    text = compare("status-all.xml", g.geo("status"))
    expect(all(x["secondary"] == "ssh://vm::svol" for x in pairs(text)), "status of all: ssh:// secondary")
    compare("status-all.xml", g.geo("status", "detail"))

    # checkpoint: pending (next sync 1000 s away), then completed (a label before the last sync)
    time.sleep(1.05)
    compare("checkpoint-set.xml", g.geo("mvol", "vm::svol", "config", "checkpoint", "now"), exact=True)
    text = compare("status-detail-checkpoint.xml", g.geo("mvol", "vm::svol", "status", "detail"))
    expect(all(x["checkpoint_completed"] == "No" and x["checkpoint_time"] != "N/A"
               and x["checkpoint_completion_time"] == "N/A" for x in pairs(text)), "checkpoint pending")
    text, _ = g.geo("mvol", "vm::svol", "config")
    expect("<checkpoint>0</checkpoint>" not in text, "config shows the checkpoint")
    last = pairs(text and g.geo("mvol", "vm::svol", "status", "detail")[0])[0]["last_synced"]
    before = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.mktime(time.strptime(
        last, "%Y-%m-%d %H:%M:%S")) - 60))
    g.geo("mvol", "vm::svol", "config", "checkpoint", before)
    text = compare("status-detail-checkpoint-done.xml", g.geo("mvol", "vm::svol", "status", "detail"))
    expect(all(x["checkpoint_completed"] == "Yes" and x["checkpoint_time"] == before
               and x["checkpoint_completion_time"] != "N/A" for x in pairs(text)), "checkpoint completed")

    # pause / resume
    compare("pause.xml", g.geo("mvol", "vm::svol", "pause"), exact=True)
    compare("err-pause-already.xml", g.geo("mvol", "vm::svol", "pause"), exact=True)
    text = compare("status-detail-paused.xml", g.geo("mvol", "vm::svol", "status", "detail"))
    expect(all(x["status"] == "Paused" and x["secondary_node"] == "N/A" and x["last_synced"] == "N/A"
               for x in pairs(text)), "Paused bricks show N/A")
    compare("err-start-already.xml", g.geo("mvol", "vm::svol", "start"), exact=True)
    compare("resume.xml", g.geo("mvol", "vm::svol", "resume"), exact=True)
    text, rc = g.geo("mvol", "vm::svol", "resume")
    expect(rc == 0 and envelope(text) == ("2", "30800", "Geo-replication session between mvol and vm::svol "
                                                        "is not Paused."), "resume of a running session")
    text, _ = g.geo("mvol", "vm::svol", "status", "detail")
    expect({p["status"] for p in pairs(text)} == {"Active"}, "resumed: Active again at once")

    # delete refused while running; stop; the answers for stopped sessions
    compare("err-delete-running.xml", g.geo("mvol", "vm::svol", "delete"), exact=True)
    compare("stop.xml", g.geo("mvol", "vm::svol", "stop"), exact=True)
    compare("err-stop-already.xml", g.geo("mvol", "vm::svol", "stop"), exact=True)
    compare("err-pause-stopped.xml", g.geo("mvol", "vm::svol", "pause"), exact=True)
    text, _ = g.geo("mvol", "vm::svol", "resume")
    expect(envelope(text)[0] == "2" and envelope(text)[2].endswith("is not Paused."), "resume of a stopped session")
    compare("status-detail-stopped.xml", g.geo("mvol", "vm::svol", "status", "detail"))

    # volume info, pool list
    compare("volume-info.xml", g.run("volume", "info"))
    text, rc = g.run("volume", "info", "mvol")
    expect(rc == 0 and paths(text) == paths(recorded("volume-info.xml")[0]), "volume info mvol")
    text, rc = g.run("volume", "info", "nosuchvol")
    expect(rc == 0 and envelope(text) == ("-1", "30806", "Volume does not exist")
           and "<count>0</count>" in text, "volume info of a missing volume")
    text = compare("pool-list.xml", g.run("pool", "list"))
    import uuid
    expect(ET.fromstring(text).findtext("peerStatus/peer/uuid") == str(uuid.uuid5(uuid.NAMESPACE_DNS, "vm")),
           "node uuid is uuid5(NAMESPACE_DNS, host name)")

    # journal: one line per mutating call, effective only where something changed
    j = g.journal()
    expect(all(set(x) == {"ts", "op", "session", "command_id", "effective"} for x in j), "journal line fields")
    eff = [(x["op"], x["session"]) for x in j if x["effective"]]
    want = [("create", "mvol vm::svol2"), ("delete", "mvol vm::svol2"), ("create", "mvol vm::svol"),
            ("config-set", "mvol vm::svol"), ("config-reset", "mvol vm::svol"),
            ("config-set", "mvol vm::svol"), ("start", "mvol vm::svol"), ("checkpoint", "mvol vm::svol"),
            ("checkpoint", "mvol vm::svol"), ("pause", "mvol vm::svol"), ("resume", "mvol vm::svol"),
            ("stop", "mvol vm::svol")]
    expect(eff == want, "journal: the effective changes, in order (got %s)" % eff)
    expect(len(j) == 29, "journal: every mutating call has a line (%d)" % len(j))


def more(g):
    # usage errors, plain text
    text, rc = g.run("volume", "frobnicate")
    expect(rc == 1 and text.startswith("unrecognized word: frobnicate (position 1)"), "unknown word")
    text, rc = g.geo("mvol", "vm-svol", "start")
    expect(rc == 1 and "Usage:" in text, "a secondary without :: is a usage error")
    text, rc = g.geo("mvol", "vm::svol", "create", "ssh-port", "2222")
    expect(rc == 1 and "Usage:" in text, "ssh-port needs push-pem or no-verify, as in gluster")
    text, rc = g.geo("mvol", "vm::svol", "config", "checkpoint", "yesterday")
    expect(rc == 1 and "Invalid Checkpoint label" in text, "bad checkpoint label")
    text, rc = g.run("volume", "info", "--frob")
    expect(rc == 255 and "unrecognized option --frob" in text, "unknown option")

    # command id in the journal; root@ is the same session; FAULTY
    n = len(g.journal())
    text, rc = g.geo("mvol", "root@vm::svol", "start", env={"GEOREP_COMMAND_ID": "cmd-42"})
    j = g.journal()[n:]
    expect(envelope(text)[0] == "0" and "<secondary>vm::svol</secondary>" in text, "root@ names the same session")
    expect(j == [dict(j[0], op="start", session="mvol vm::svol", command_id="cmd-42", effective=True)],
           "journal carries GEOREP_COMMAND_ID")
    wait_active(g)
    text, _ = g.geo("mvol", "vm::svol", "status", "detail", env={"GEOREP_STANDIN_FAULTY": "mvol:vm::svol"})
    expect([p["status"] for p in pairs(text)] == ["Faulty", "Faulty"], "FAULTY: every brick")
    text, _ = g.geo("status", env={"GEOREP_STANDIN_FAULTY": "pvol9:vm::svol9,mvol:vm::svol#1"})
    expect([p["status"] for p in pairs(text)] == ["Faulty", "Active"], "FAULTY #1: brick 1 only")

    # several sessions: one <volume> per primary, sessions ordered by gluster's slot names
    for i in (1, 2):
        g.geo("pvol%d" % i, "vm::svol%d" % i, "create", "push-pem")
    g.geo("mvol", "geo@vm::svol3", "create", "push-pem")
    text, rc = g.geo("status", "detail")
    root = ET.fromstring(text)
    vols = [(v.findtext("name"), [s.findtext("session_secondary").split(":ssh://")[1].rsplit(":", 1)[0]
                                  for s in v.iter("session")]) for v in root.iter("volume")]
    expect(vols == [("mvol", ["vm::svol"]), ("pvol1", ["vm::svol1"]), ("pvol2", ["vm::svol2"]),
                    ("mvol", ["geo@vm::svol3"])], "status of all in gluster's order: %s" % vols)
    users = {p["secondary"]: p["secondary_user"] for p in pairs(text)}
    expect(users.get("ssh://geo@vm::svol3") == "geo", "a non-root session names its user")
    text, _ = g.geo("mvol", "geo@vm::svol3", "status")
    expect(pairs(text)[0]["secondary"] == "geo@vm::svol3", "session status of a non-root session")
    text, rc = g.geo("mvol", "vm::svol3", "status")
    expect(rc == 2, "the same secondary without the user is another session")

    # latency
    t = time.time()
    g.run("pool", "list", env={"GEOREP_STANDIN_LATENCY_MS": "300"})
    expect(time.time() - t >= 0.3, "GEOREP_STANDIN_LATENCY_MS")

    # concurrency: 12 parallel starts of one session -> one effective; 12 creates of distinct ones
    g.geo("mvol", "vm::svol", "stop")
    n = len(g.journal())
    procs = [subprocess.Popen([GLUSTER, "--mode=script", "--xml", "volume", "geo-replication", "mvol", "vm::svol",
                               "start"], env=g.env, stdout=subprocess.PIPE, text=True) for _ in range(12)]
    outs = [envelope(p.communicate()[0])[0] for p in procs]
    j = g.journal()[n:]
    expect(outs.count("0") == 1 and outs.count("-1") == 11 and sum(x["effective"] for x in j) == 1
           and len(j) == 12, "12 concurrent starts: one succeeds, one effective journal line")
    procs = [subprocess.Popen([GLUSTER, "--mode=script", "--xml", "volume", "geo-replication", "pvol%d" % (10 + i),
                               "vm::svol%d" % (10 + i), "create", "push-pem"], env=g.env, stdout=subprocess.PIPE,
                              text=True) for i in range(12)]
    outs = [envelope(p.communicate()[0])[0] for p in procs]
    with open(os.path.join(g.state, "state.json")) as f:
        st = json.load(f)
    want = {"pvol%d\tvm\tsvol%d" % (10 + i, 10 + i) for i in range(12)}
    expect(outs == ["0"] * 12 and want <= set(st["sessions"]),
           "12 concurrent creates of distinct sessions all land in the state")


def main():
    tmp = tempfile.mkdtemp(prefix="standin-selfcheck-")
    try:
        g = Standin(os.path.join(tmp, "state"))
        lifecycle(g)
        more(g)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    names = sorted(n for n in os.listdir(RECORDED) if n.endswith(".xml"))
    covered = {c.split(":")[0] for c in checked}
    missing = [n for n in names if n not in covered]
    if missing:
        fail("recorded files not compared: %s" % missing)
    print("selfcheck passed: %d checks, all %d recorded files compared" % (len(checked), len(names)))


if __name__ == "__main__":
    main()
