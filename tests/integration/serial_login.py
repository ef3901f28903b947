#!/usr/bin/env python3
"""serial_login.py IMGTOOL IMAGE USER WRONG RIGHT: boot IMAGE with `imgtool
boot` on a pseudo-terminal (its serial console), log in at the getty as USER
with the password WRONG (must be refused: "Login incorrect"), then with RIGHT
(must give a shell), run `id -un` there and power off.  Prints one line per
step; exit 0 when every step went as it should.  The console goes to
IMAGE.console."""
import os, pty, select, signal, sys, time

imgtool, image, user, wrong, right = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(imgtool, [imgtool, "boot", image, "--no-network"])
log = open(image + ".console", "wb")
seen = b""


def wait_for(pattern, timeout):
    """Read the console until pattern shows up; what follows it stays."""
    global seen
    end = time.time() + timeout
    while time.time() < end:
        if pattern in seen:
            seen = seen[seen.index(pattern) + len(pattern):]
            return True
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        log.write(data)
        log.flush()
        seen += data
    return False


def send(text):
    time.sleep(0.5)     # the getty and login flush their input when they start
    os.write(fd, text.encode() + b"\r")


def step(what, ok):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        raise SystemExit(1)


start = time.time()
try:
    step("the getty's login prompt", wait_for(b"login: ", 900))
    print("boot to the login prompt: %.0f s" % (time.time() - start), flush=True)
    send(user)
    step("password prompt", wait_for(b"Password: ", 120))
    send(wrong)
    step("a wrong password is refused", wait_for(b"Login incorrect", 120))
    step("the prompt again", wait_for(b"login: ", 120))
    send(user)
    step("password prompt again", wait_for(b"Password: ", 120))
    send(right)
    send("echo LOGGED-IN-$((6*7)) as $(id -un)")
    step("the right password gives %s a shell" % user, wait_for(("LOGGED-IN-42 as %s" % user).encode(), 120))
    send("systemctl poweroff")
    step("powered off", wait_for(b"reboot: Power down", 300))
finally:
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
