#!/usr/bin/env python3
"""jwtsift over a log archive on Spark: one `jwtsift scan` per group of files on the executors, one shard
findings database per task, merged on the driver with `jwtsift merge`.

    spark-submit [--master local[2] | yarn | k8s://… | spark://…] job.py \\
        --jwtsift /path/to/jwtsift --out findings.sqlite [--shard-dir DIR_OR_URI] \\
        [--keys F]... [--retired-keys F]... [--hmac-secret-file F]... [--scan-arg ARG]... \\
        [--tasks N] [--transport auto|path|stream|hadoop-cat|binary] PATH_OR_GLOB...

Files are listed on the driver through Spark's own Hadoop FileSystem layer (local paths, file://, hdfs://, s3a://,
abfs://… whatever the cluster's Hadoop configuration reaches; globs and directories, recursively), grouped into
--tasks groups of about equal bytes, and each group is scanned by one task:

- path (local files, the default for them): jwtsift is given the file's path; it reads gzip itself, and the
  source row has the file's identity (size, inode, head hash), so a later `jwtsift scan --db OUT` of the same
  files recognises them.
- stream: the task reads the file itself (a local path) and streams its bytes into `jwtsift scan -` through a
  pipe, in constant memory, with `--stdin-name PATH --stdin-mtime MTIME` so its rows name the file as a scan of it
  would, and syslog stamps without a year get it from the file's modification time.
- hadoop-cat (the default for other schemes when `hadoop` is on the executors' PATH): as stream, the bytes from
  `hadoop fs -cat URI` (constant memory; any file size).
- binary (the fallback): sc.binaryFiles, the whole file in the task's memory: only for files that fit in it.

The jwtsift binary and the key/secret files are shipped to the executors with SparkContext.addFile (from the
driver's local paths), so nothing needs installing on the workers. Shards are written in the task's local
directory and then copied to --shard-dir: a directory the driver can read (local mode, a shared mount) or a
Hadoop URI (`hadoop fs -put` on the executor, copied to the driver through the JVM FileSystem). Without
--shard-dir the job uses a local temporary directory, which only works where tasks and driver share a disk
(local mode). The driver then runs `jwtsift merge --db OUT SHARD...`; OUT may already hold earlier nights'
shards (a shard merged before adds nothing).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

# Exit statuses of `jwtsift scan` that still leave a complete shard: 0 done, 1 --fail-on matched,
# 3 some inputs could not be read (the rest were scanned; stderr says which).
SCAN_OK = (0, 1, 3)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="files, directories or globs (local paths or Hadoop URIs)")
    ap.add_argument("--jwtsift", required=True, help="the jwtsift binary on the driver (shipped to the executors)")
    ap.add_argument("--out", required=True, help="the merged findings database (a local path on the driver)")
    ap.add_argument("--shard-dir", help="where tasks leave their shard databases (a directory or a Hadoop URI)")
    ap.add_argument("--keys", action="append", default=[])
    ap.add_argument("--retired-keys", action="append", default=[])
    ap.add_argument("--hmac-secret-file", action="append", default=[])
    ap.add_argument("--scan-arg", action="append", default=[],
                    help="one more argument for every jwtsift scan (repeat: --scan-arg=--leeway --scan-arg=30)")
    ap.add_argument("--tasks", type=int, default=0, help="file groups, one task each (default: 2 × parallelism)")
    ap.add_argument("--transport", default="auto", choices=["auto", "path", "stream", "hadoop-cat", "binary"])
    ap.add_argument("--keep-shards", action="store_true", help="leave the shard databases after the merge")
    ap.add_argument("--rescan-merged", action="store_true",
                    help="scan files whose path --out already has (default: left out, so a nightly run scans what is new)")
    return ap.parse_args(argv)


# ---------------------------------------------------------------------------------------------------------------
# Driver: listing through the JVM's Hadoop FileSystem.

def list_files(sc, patterns):
    """[(uri, length, mtime_seconds)] of every file the patterns name (globs; directories recursively), sorted
    by path bytes like jwtsift's own directory walk, each file once."""
    jvm = sc._jvm
    conf = sc._jsc.hadoopConfiguration()
    found = {}
    for pattern in patterns:
        if "://" not in pattern and not pattern.startswith("file:"):
            pattern = "file://" + os.path.abspath(pattern)
        path = jvm.org.apache.hadoop.fs.Path(pattern)
        fs = path.getFileSystem(conf)
        statuses = fs.globStatus(path)
        if statuses is None or len(statuses) == 0:
            raise SystemExit(f"jwtsift-spark: {pattern}: no such file or directory")
        for st in statuses:
            if st.isDirectory():
                it = fs.listFiles(st.getPath(), True)
                while it.hasNext():
                    f = it.next()
                    if f.isFile():
                        found[f.getPath().toString()] = (f.getLen(), f.getModificationTime() / 1000.0)
            else:
                found[st.getPath().toString()] = (st.getLen(), st.getModificationTime() / 1000.0)
    return sorted(((uri, n, m) for uri, (n, m) in found.items()), key=lambda f: f[0].encode())


def local_path(uri):
    """The local path of a file: URI (file:/a, file:///a), else None."""
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if uri.startswith("file:"):
        return uri[len("file:"):]
    return None


def source_name(uri):
    """What the findings call a file: its local path, or its URI."""
    return local_path(uri) or uri


def merged_paths(out):
    """Source paths --out already holds (completed, not replaced): the files an earlier night scanned."""
    if not os.path.exists(out):
        return set()
    import sqlite3
    c = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        return {r[0] for r in c.execute("SELECT path FROM sources WHERE completed = 1 AND replaced_by IS NULL")}
    except sqlite3.Error:
        return set()
    finally:
        c.close()


def groups_by_bytes(files, n):
    """n groups of about equal bytes (largest first into the lightest group), each in path order."""
    bins = [[0, []] for _ in range(max(1, min(n, len(files))))]
    for f in sorted(files, key=lambda f: -f[1]):
        b = min(bins, key=lambda b: b[0])
        b[0] += f[1]
        b[1].append(f)
    return [sorted(b[1], key=lambda f: f[0].encode()) for b in bins if b[1]]


# ---------------------------------------------------------------------------------------------------------------
# Executor: one shard per task.

def shipped(name_or_path):
    """A file shipped with SparkContext.addFile, by its base name; else the path as given."""
    try:
        from pyspark import SparkFiles
        p = SparkFiles.get(os.path.basename(name_or_path))
        if os.path.exists(p):
            return p
    except Exception:
        pass
    return name_or_path


def key_args(conf):
    args = []
    for opt in ("keys", "retired_keys", "hmac_secret_file"):
        for p in conf[opt]:
            args += ["--" + opt.replace("_", "-"), shipped(p)]
    return args


def run_checked(cmd, stdin=None, what=""):
    p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in SCAN_OK:
        raise RuntimeError(f"{what or cmd[0]}: exit {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    return p


def scan_group(conf, index, group, binary_contents=None):
    """Scans one group of files into a new shard database; returns the shard's final location."""
    exe = shipped(conf["jwtsift"])
    if not os.access(exe, os.X_OK):
        os.chmod(exe, 0o755)
    work = tempfile.mkdtemp(prefix="jwtsift-shard-")
    shard = os.path.join(work, f"shard-{conf['job']}-{index:05d}.sqlite")
    base = [exe, "scan", "--db", shard, "-q"] + key_args(conf) + conf["scan_arg"]
    transport = conf["transport"]
    try:
        local = [(local_path(u), u, n, m) for u, n, m in group]
        if transport in ("auto", "path") and all(lp for lp, *_ in local):
            # One process for the group: jwtsift reads each file itself (gzip, identity, mtime).
            run_checked(base + [lp for lp, *_ in local], what=f"jwtsift scan (task {index})")
        else:
            for lp, uri, _, mtime in local:
                named = base + ["-", "--stdin-name", source_name(uri), "--stdin-mtime", repr(mtime)]
                if transport == "binary" or (transport == "auto" and lp is None and not shutil.which("hadoop")):
                    data = binary_contents[uri] if binary_contents else None
                    p = subprocess.run(named, input=data, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    if p.returncode not in SCAN_OK:
                        raise RuntimeError(f"jwtsift scan - ({uri}): exit {p.returncode}: {p.stderr.decode()[-2000:]}")
                elif lp is not None and transport in ("auto", "stream", "path"):
                    # The task reads the file and streams it in, in constant memory.
                    with open(lp, "rb") as f:
                        run_checked(named, stdin=f, what=f"jwtsift scan - ({uri})")
                else:
                    cat = subprocess.Popen(["hadoop", "fs", "-cat", uri], stdout=subprocess.PIPE)
                    try:
                        run_checked(named, stdin=cat.stdout, what=f"jwtsift scan - ({uri})")
                    finally:
                        cat.stdout.close()
                        if cat.wait() != 0:
                            raise RuntimeError(f"hadoop fs -cat {uri}: exit {cat.returncode}")
        return deliver(conf, shard)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def deliver(conf, shard):
    """Copies the finished shard to the shard directory (a path or a Hadoop URI); returns where it is."""
    dest_dir = conf["shard_dir"]
    name = os.path.basename(shard)
    if "://" in dest_dir and not dest_dir.startswith("file:"):
        dest = dest_dir.rstrip("/") + "/" + name
        subprocess.run(["hadoop", "fs", "-put", "-f", shard, dest], check=True)
        return dest
    dest = os.path.join(local_path(dest_dir) or dest_dir, name)
    tmp = dest + ".part"
    shutil.copyfile(shard, tmp)
    os.replace(tmp, dest)  # whole or absent: the driver never merges half a copy
    return dest


def fetch_to_driver(sc, location, local_dir):
    """A shard's local path on the driver (copied from a Hadoop URI through the JVM FileSystem)."""
    if "://" not in location or location.startswith("file:"):
        return local_path(location) or location
    jvm = sc._jvm
    src = jvm.org.apache.hadoop.fs.Path(location)
    dst = os.path.join(local_dir, os.path.basename(location))
    src.getFileSystem(sc._jsc.hadoopConfiguration()).copyToLocalFile(False, src, jvm.org.apache.hadoop.fs.Path(
        "file://" + dst), True)
    return dst


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("jwtsift").getOrCreate()
    sc = spark.sparkContext
    started = time.time()
    files = list_files(sc, a.paths)
    if not a.rescan_merged:
        known = merged_paths(a.out)
        left_out = [f for f in files if source_name(f[0]) in known]
        if left_out:
            print(f"jwtsift-spark: {len(left_out)} files already in {a.out} left out (--rescan-merged to scan them)",
                  file=sys.stderr)
        files = [f for f in files if source_name(f[0]) not in known]
    if not files:
        print("jwtsift-spark: nothing new to scan", file=sys.stderr)
        spark.stop()
        return
    tmp_root = None
    shard_dir = a.shard_dir
    if not shard_dir:
        tmp_root = tempfile.mkdtemp(prefix="jwtsift-shards-")
        shard_dir = tmp_root
    elif "://" not in shard_dir:
        os.makedirs(shard_dir, exist_ok=True)
    # Ship the binary and the key files from the driver; tasks find them with SparkFiles by base name.
    for p in [a.jwtsift] + a.keys + a.retired_keys + a.hmac_secret_file:
        sc.addFile(os.path.abspath(p))
    conf = {"jwtsift": a.jwtsift, "keys": a.keys, "retired_keys": a.retired_keys,
            "hmac_secret_file": a.hmac_secret_file, "scan_arg": a.scan_arg, "transport": a.transport,
            "shard_dir": shard_dir, "job": uuid.uuid4().hex[:8]}
    n = a.tasks or sc.defaultParallelism * 2
    groups = groups_by_bytes(files, n)
    print(f"jwtsift-spark: {len(files)} files, {sum(f[1] for f in files) / 1e6:.1f} MB, {len(groups)} tasks, "
          f"transport {a.transport}", file=sys.stderr)

    if a.transport == "binary":
        # The whole file in memory (sc.binaryFiles): grouped by the task that scans it.
        wanted = {f[0]: i for i, g in enumerate(groups) for f in g}
        contents = sc.binaryFiles(",".join(wanted)).map(lambda kv: (wanted.get(kv[0], -1), kv)) \
            .groupByKey(len(groups))
        by_group = dict(enumerate(groups))
        shards = contents.map(lambda kv: scan_group(conf, kv[0], by_group[kv[0]], dict(kv[1]))).collect()
    else:
        rdd = sc.parallelize(list(enumerate(groups)), len(groups))
        shards = rdd.map(lambda ig: scan_group(conf, ig[0], ig[1])).collect()
    scanned = time.time()

    local_dir = tmp_root or tempfile.mkdtemp(prefix="jwtsift-shards-")
    local = [fetch_to_driver(sc, s, local_dir) for s in sorted(shards)]
    merge = subprocess.run([a.jwtsift, "merge", "--db", a.out, "-q"] + local)
    merged = time.time()
    if merge.returncode != 0:
        raise SystemExit(f"jwtsift-spark: jwtsift merge exited {merge.returncode}; shards kept in {local_dir}")
    if not a.keep_shards:
        for s in local:
            os.remove(s)
        if tmp_root:
            shutil.rmtree(tmp_root, ignore_errors=True)
    print(f"jwtsift-spark: scanned in {scanned - started:.1f} s, merged {len(local)} shards in "
          f"{merged - scanned:.1f} s into {a.out}", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
