"""The files ArduPilot serves over MAVLink FTP (AP_Filesystem and its backends), as SITL shows
them: ``@MISSION/mission.dat|fence.dat|rally.dat`` (the vehicle's mission, fence and rally
storage as files), ``@PARAM/param.pck`` (every parameter, packed), the ``@SYS`` and ``@ROMFS``
listings, and SITL's working directory (``terrain/``), kept in memory."""

from __future__ import annotations

import errno
import math
import struct
import zlib
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.mission import CAPACITY, FENCE, MISSION, RALLY, Item, fence_total, stored_form, validate

if TYPE_CHECKING:
    from sim.params import ParamStore
    from sim.vehicle import Vehicle

ITEM = mavlink.MAVLink_mission_item_int_message
ITEM_SIZE = ITEM.unpacker.size  # 38: a MISSION_ITEM_INT payload in wire order
MISSION_HEADER = struct.Struct("<HHHHH")  # magic, mission type, options, start, count
MISSION_MAGIC = 0x763D
NO_CLEAR = 1  # header option: write from ``start`` into the stored mission without clearing it
MISSION_FILES = {"mission.dat": MISSION, "fence.dat": FENCE, "rally.dat": RALLY}
MISSION_FILE_SIZE = 1024 * 1024  # stat() of a mission file: fixed, to avoid counting items

PARAM_HEADER = struct.Struct("<HHH")  # magic, parameters in the file, parameters in total
PARAM_MAGIC = 0x671B
PARAM_MAGIC_DEFAULTS = 0x671C  # param.pck?withdefaults=1
# MAV_PARAM_TYPE -> AP_Param type number (INT8 1, INT16 2, INT32 3, FLOAT 4) and value format
AP_TYPES = {
    mavlink.MAV_PARAM_TYPE_INT8: (1, "<b"),
    mavlink.MAV_PARAM_TYPE_INT16: (2, "<h"),
    mavlink.MAV_PARAM_TYPE_INT32: (3, "<i"),
    mavlink.MAV_PARAM_TYPE_REAL32: (4, "<f"),
}
AP_FORMATS = {ap: fmt for ap, fmt in AP_TYPES.values()}
CRC_READ_SIZE = 64  # AP_Filesystem::crc32 reads in 64-byte chunks

# Listings SITL gave (its @SYS files report a nominal size; @ROMFS is the SITL build's)
SYS_FILES = (
    *((f"{name}.txt", 100000) for name in ("threads", "tasks", "dma", "memory", "uarts",
                                           "timers", "can_log", "can0_stats", "can1_stats")),
    ("crash_dump.bin", 100000),
    ("storage.bin", 16384),
)  # fmt: skip
ROMFS_ENTRIES = ("Flocations.txt\t4727", "Dmodels")
VIRTUAL_ROOT_DIRS = ("@ROMFS", "@SYS")  # the virtual directories a listing of "/" shows


class FsError(Exception):
    """A failed file operation with its errno (0 when ArduPilot leaves errno unset)."""

    def __init__(self, code: int) -> None:
        super().__init__(errno.errorcode.get(code, str(code)))
        self.errno = code


def crc32(data: bytes, crc: int = 0) -> int:
    """ArduPilot's crc_crc32: CRC-32 (poly 0xEDB88320) with no inversion at either end, so the
    first call starts from 0 (zlib's crc32 inverts before and after)."""
    return zlib.crc32(data, crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


# -- @MISSION -------------------------------------------------------------------------------
def pack_item(item: Item, seq: int) -> bytes:
    """One stored item as ArduPilot writes it to mission.dat (target ids 0, current 0)."""
    fields = {
        "param1": item.param1, "param2": item.param2, "param3": item.param3,
        "param4": item.param4, "x": item.x, "y": item.y, "z": item.z, "seq": seq,
        "command": item.command, "target_system": 0, "target_component": 0,
        "frame": item.frame, "current": 0, "autocontinue": item.autocontinue,
        "mission_type": item.mission_type,
    }  # fmt: skip
    return ITEM.unpacker.pack(*(fields[name] for name in ITEM.ordered_fieldnames))


def unpack_item(data: bytes, mission_type: int) -> Item:
    f = dict(zip(ITEM.ordered_fieldnames, ITEM.unpacker.unpack(data), strict=True))
    return Item(
        seq=f["seq"], frame=f["frame"], command=f["command"], param1=f["param1"],
        param2=f["param2"], param3=f["param3"], param4=f["param4"], x=f["x"], y=f["y"],
        z=f["z"], autocontinue=f["autocontinue"], mission_type=mission_type,
    )  # fmt: skip


class MissionFile:
    """An open ``@MISSION`` file (AP_Filesystem_Mission): reads serve the live storage (the
    header's count as at open); writes collect an upload that is parsed when it is closed."""

    def __init__(self, vehicle: Vehicle, mission_type: int, write: bool) -> None:
        self.store = vehicle.missions
        self.mission_type = mission_type
        self.num_items = self.store.count(mission_type)
        self.upload: bytearray | None = bytearray() if write else None

    def _item(self, index: int) -> Item | None:
        items = self.store.items[self.mission_type]
        if index >= len(items):
            return None
        if self.mission_type == MISSION and index == 0:
            return self.store.home_item()
        return items[index]

    def read(self, offset: int, count: int) -> bytes:
        if self.upload is not None:
            raise FsError(errno.EBADF)
        out = bytearray()
        if offset < MISSION_HEADER.size:
            header = MISSION_HEADER.pack(MISSION_MAGIC, self.mission_type, 0, 0, self.num_items)
            out += header[offset : offset + count]
            offset += len(out)
        index, skip = divmod(offset - MISSION_HEADER.size, ITEM_SIZE)
        while len(out) < count and (item := self._item(index)) is not None:
            out += pack_item(item, index)[skip : skip + count - len(out)]
            index, skip = index + 1, 0
        return bytes(out)

    def write(self, offset: int, data: bytes) -> None:
        buf = self.upload
        if buf is None:
            raise FsError(errno.EBADF)
        if offset == 0 and len(data) >= MISSION_HEADER.size:
            count = MISSION_HEADER.unpack_from(data)[4]
            if count < 0xFFFF:  # the whole file's size is known from its header
                buf.extend(bytes(max(0, MISSION_HEADER.size + count * ITEM_SIZE - len(buf))))
        buf.extend(bytes(max(0, offset + len(data) - len(buf))))
        buf[offset : offset + len(data)] = data

    def close(self) -> bool:
        """Store an upload (False when the file is malformed or an item is refused; what was
        stored before the refusal stays, as in ArduPilot)."""
        if self.upload is None:
            return True
        data = bytes(self.upload)
        if len(data) < MISSION_HEADER.size:
            return False
        magic, _type, options, start, count = MISSION_HEADER.unpack_from(data)
        n = (len(data) - MISSION_HEADER.size) // ITEM_SIZE
        if magic != MISSION_MAGIC or n != count:
            return False
        chunks = [
            data[MISSION_HEADER.size + i * ITEM_SIZE : MISSION_HEADER.size + (i + 1) * ITEM_SIZE]
            for i in range(n)
        ]
        if any(not any(chunk) for chunk in chunks):
            return False  # an all-zero item: the client did not fill in the whole file
        items = [unpack_item(chunk, self.mission_type) for chunk in chunks]
        if self.mission_type == MISSION:
            return self._store_mission(items, options, start)
        if options & NO_CLEAR:
            return False  # fences and rally points are only replaced whole
        if self.mission_type == FENCE:
            return self._store_fence(items)
        return self._store_rally(items)

    def _store_mission(self, items: list[Item], options: int, start: int) -> bool:
        store = self.store
        stored = store.items[MISSION]
        changed = not options & NO_CLEAR
        if changed:
            stored.clear()
        ok = True
        for i, item in enumerate(items):
            index = item.seq = start + i
            jump_target = int(item.param1)
            if validate(item) != mavlink.MAV_MISSION_ACCEPTED or (
                item.command == mavlink.MAV_CMD_DO_JUMP
                and (jump_target >= len(items) or jump_target == 0)
            ):
                ok = False
                break
            kept = store.home_item() if index == 0 else stored_form(item)
            if index < len(stored):
                stored[index] = kept
            elif index == len(stored) and len(stored) < CAPACITY[MISSION]:
                stored.append(kept)  # past 650 items the rest of the file is dropped
            else:
                ok = False
                break
            changed = True
        if changed:
            store.param_value("MIS_TOTAL", float(len(stored)))
            store.on_change(MISSION)
        return ok

    def _store_fence(self, items: list[Item]) -> bool:
        store = self.store
        for i, item in enumerate(items):
            item.seq = i
        if len(items) > CAPACITY[FENCE] or any(
            validate(item) != mavlink.MAV_MISSION_ACCEPTED for item in items
        ):
            return False  # AC_PolyFence_loader keeps the old fence
        store.items[FENCE][:] = [stored_form(item) for item in items]
        store.text(mavlink.MAV_SEVERITY_DEBUG, "Fence Indexed OK")
        store.param_value("FENCE_TOTAL", float(fence_total(store.items[FENCE])))
        store.on_change(FENCE)
        return True

    def _store_rally(self, items: list[Item]) -> bool:
        store = self.store
        stored = store.items[RALLY]
        stored.clear()
        ok = True
        for i, item in enumerate(items):
            item.seq = i
            if validate(item) != mavlink.MAV_MISSION_ACCEPTED or len(stored) >= CAPACITY[RALLY]:
                ok = False
                break
            stored.append(stored_form(item))
        store.param_value("RALLY_TOTAL", float(len(stored)))
        store.on_change(RALLY)
        return ok


# -- @PARAM ---------------------------------------------------------------------------------
def pack_params(
    entries: list[tuple[str, int, float, float | None]], total: int, read_size: int,
    with_defaults: bool = False,
) -> bytes:  # fmt: skip
    """param.pck (AP_Filesystem_Param): a ``<HHH`` header, then per parameter a type byte (AP
    type, flag 1 when a default follows), a byte of (name bytes shared with the previous name,
    new name bytes - 1), the new name bytes and the value. A value never straddles a
    ``read_size`` boundary: zero bytes pad in front of its entry. ``entries``: (name, AP type,
    value, default or None)."""
    magic = PARAM_MAGIC_DEFAULTS if with_defaults else PARAM_MAGIC
    out = bytearray(PARAM_HEADER.pack(magic, len(entries), total))
    last = b""
    for name, ap_type, value, default in entries:
        raw = name.encode()
        common = 0
        while common < min(len(raw), len(last), 15) and raw[common] == last[common]:
            common += 1
        if common == len(raw):  # a name that is a prefix of the previous one
            common -= 1
        fmt = AP_FORMATS[ap_type]
        data = struct.pack(fmt, value if ap_type == 4 else int(value))
        flags = 0
        if with_defaults and default is not None and default != value:
            flags = 1
            data += struct.pack(fmt, default if ap_type == 4 else int(default))
        suffix = raw[common:]
        entry = bytes([ap_type | flags << 4, common | (len(suffix) - 1) << 4]) + suffix + data
        width = struct.calcsize(fmt)
        if width > 1:
            end = (len(out) + len(entry)) % read_size
            if 0 < end < width:
                out += bytes(width - end)
        out += entry
        last = raw
    return bytes(out)


def _param_query(name: str) -> dict[str, int] | None:
    """``param.pck`` or ``param.pck?start=N&count=C&withdefaults=1``: the arguments, or None
    for another name; FsError(EINVAL) for a bad argument."""
    base, _, query = name.partition("?")
    if base != "param.pck":
        return None
    args = {"start": 0, "count": 0, "withdefaults": 0}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if key not in args or not value.isdigit():
            continue  # ArduPilot skips what it does not recognise
        args[key] = int(value)
        if args["start"] >= 0xFFFF or args["count"] >= 0xFFFF or args["withdefaults"] > 1:
            raise FsError(errno.EINVAL)
    return args


class ParamFile:
    """An open ``@PARAM/param.pck``: packed on the first read, whose size it keeps (a read of
    another size fails), or an upload of parameter values applied when it is closed."""

    def __init__(self, params: ParamStore, args: dict[str, int], write: bool) -> None:
        self.params = params
        self.args = args
        self.data: bytes | None = None
        self.read_size = 0
        self.upload: bytearray | None = bytearray() if write else None

    def pack(self, read_size: int) -> bytes:
        p = self.params
        total = len(p)
        start, count = self.args["start"], self.args["count"]
        if total <= start:
            raise FsError(errno.EINVAL)
        names = p.names[start : start + count] if count else p.names[start:]
        entries = [(n, AP_TYPES[p.types[n]][0], p.values[n], p.defaults.get(n)) for n in names]
        return pack_params(entries, total, read_size, bool(self.args["withdefaults"]))

    def read(self, offset: int, count: int) -> bytes:
        if self.upload is not None:
            raise FsError(errno.EINVAL)
        if self.read_size and count != self.read_size:
            raise FsError(errno.EINVAL)
        if self.data is None:
            self.read_size = count
            self.data = self.pack(count)
        return self.data[offset : offset + count]

    def write(self, offset: int, data: bytes) -> None:
        if self.upload is None:
            raise FsError(errno.EBADF)
        if offset + len(data) > 0xFFFF:
            raise FsError(errno.EINVAL)
        self.upload.extend(bytes(max(0, offset + len(data) - len(self.upload))))
        self.upload[offset : offset + len(data)] = data

    def close(self) -> bool:
        """Apply an uploaded param.pck (header count = file length), as MAVProxy's
        ``param ftpload`` sends it; unknown names are skipped."""
        if self.upload is None:
            return True
        data = bytes(self.upload)
        if len(data) < PARAM_HEADER.size:
            return False
        magic, num, length = PARAM_HEADER.unpack_from(data)
        if magic != PARAM_MAGIC or length != len(data):
            return False
        pos, last = PARAM_HEADER.size, b""
        for _ in range(num):
            if len(data) - pos < 2:
                return False
            ap_type, flags = data[pos] & 0x0F, data[pos] >> 4
            common, size = data[pos + 1] & 0x0F, (data[pos + 1] >> 4) + 1
            if ap_type not in AP_FORMATS or flags or common > len(last) or common + size > 16:
                return False
            fmt = AP_FORMATS[ap_type]
            end = pos + 2 + size + struct.calcsize(fmt)
            if end > len(data):
                return False
            name = last[:common] + data[pos + 2 : pos + 2 + size]
            (value,) = struct.unpack_from(fmt, data, pos + 2 + size)
            if math.isfinite(value):
                self.params.set(name.decode(errors="replace"), value)
            last, pos = name, end
        return True


# -- SITL's working directory ---------------------------------------------------------------
class WorkDir:
    """SITL's directory (AP_Filesystem_posix), in memory: ``terrain/`` holds the empty terrain
    file of the home square. Directories list in creation order, "." and ".." included."""

    def __init__(self, home_lat: float, home_lon: float) -> None:
        lat, lon = math.floor(home_lat), math.floor(home_lon)
        tile = f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}{'E' if lon >= 0 else 'W'}{abs(lon):03d}"
        self.dirs: dict[str, list[str]] = {"": [".", "..", "terrain"]}
        self.dirs["terrain"] = [".", f"{tile}.DAT", ".."]
        self.files: dict[str, bytearray] = {f"terrain/{tile}.DAT": bytearray()}

    @staticmethod
    def local(path: str) -> str:
        """SITL maps one leading "/" to its own directory; "//x" stays absolute: not ours."""
        path = path.removeprefix("/")
        if path.startswith("/"):
            raise FsError(errno.ENOENT)
        return path.rstrip("/")

    def _parent(self, path: str) -> tuple[str, str]:
        parent, _, name = path.rpartition("/")
        if parent not in self.dirs or not name or name in (".", ".."):
            raise FsError(errno.ENOENT)
        return parent, name

    def listdir(self, path: str) -> list[str]:
        local = self.local(path)
        if local not in self.dirs:
            raise FsError(errno.ENOENT)
        entries = []
        for name in self.dirs[local]:
            if name in (".", "..") or (f"{local}/{name}" if local else name) in self.dirs:
                entries.append(f"D{name}")
                continue
            try:  # gen_dir_entry stats "<dir>/<name>": "//name" in "/", which is not found
                size = self.stat(f"{path}/{name}")
            except FsError:
                continue
            entries.append(f"F{name}\t{size}")
        return entries

    def stat(self, path: str) -> int:
        path = self.local(path)
        if path in self.files:
            return len(self.files[path])
        if path in self.dirs:
            return 0
        raise FsError(errno.ENOENT)

    def open(self, path: str, write: bool, truncate: bool) -> PlainFile:
        path = self.local(path)
        if path in self.dirs:
            raise FsError(errno.EISDIR)
        if path not in self.files:
            if not write:
                raise FsError(errno.ENOENT)
            parent, name = self._parent(path)
            self.files[path] = bytearray()
            self.dirs[parent].append(name)
        elif truncate:
            self.files[path].clear()
        return PlainFile(self.files[path], write)

    def unlink(self, path: str) -> None:
        path = self.local(path)
        parent, name = self._parent(path)
        if path in self.dirs:
            if len(self.dirs[path]) > 2:
                raise FsError(errno.ENOTEMPTY)
            del self.dirs[path]
        elif self.files.pop(path, None) is None:
            raise FsError(errno.ENOENT)
        self.dirs[parent].remove(name)

    def mkdir(self, path: str) -> None:
        path = self.local(path)
        parent, name = self._parent(path)
        if path in self.dirs or path in self.files:
            raise FsError(errno.EEXIST)
        self.dirs[path] = [".", ".."]
        self.dirs[parent].append(name)

    def rename(self, old: str, new: str) -> None:
        old, new = self.local(old), self.local(new)
        if old not in self.files:  # directories stay where they are
            raise FsError(errno.ENOENT)
        old_parent, old_name = self._parent(old)
        new_parent, new_name = self._parent(new)
        if new in self.dirs:
            raise FsError(errno.EISDIR)
        if new not in self.files:
            self.dirs[new_parent].append(new_name)
        self.files[new] = self.files.pop(old)
        self.dirs[old_parent].remove(old_name)


class PlainFile:
    def __init__(self, data: bytearray, write: bool) -> None:
        self.data = data
        self.writable = write

    def read(self, offset: int, count: int) -> bytes:
        if self.writable:
            raise FsError(errno.EBADF)
        return bytes(self.data[offset : offset + count])

    def write(self, offset: int, data: bytes) -> None:
        if not self.writable:
            raise FsError(errno.EBADF)
        self.data.extend(bytes(max(0, offset + len(data) - len(self.data))))
        self.data[offset : offset + len(data)] = data

    def close(self) -> bool:
        return True


OpenFile = MissionFile | ParamFile | PlainFile


# -- AP_Filesystem --------------------------------------------------------------------------
class Files:
    """One vehicle's filesystem: paths starting ``@PARAM``, ``@MISSION``, ``@SYS`` or
    ``@ROMFS`` go to those backends, the rest to SITL's directory. The @SYS and @ROMFS files
    are listed as SITL lists them but their contents are not simulated (FileNotFound)."""

    def __init__(self, vehicle: Vehicle) -> None:
        self.vehicle = vehicle
        self.workdir = WorkDir(vehicle.home[0], vehicle.home[1])

    @staticmethod
    def split(path: str) -> tuple[str, str]:
        """(backend, path inside it); backend "" is SITL's directory."""
        for backend in ("@PARAM", "@MISSION", "@SYS", "@ROMFS"):
            if path == backend or path.startswith(backend + "/"):
                return backend, path[len(backend) :].removeprefix("/")
        return "", path

    def listdir(self, path: str) -> list[str]:
        backend, inner = self.split(path)
        if backend == "":
            entries = self.workdir.listdir(path)
            if self.workdir.local(path) == "":
                entries += [f"D{name}" for name in VIRTUAL_ROOT_DIRS]
            return entries
        if backend == "@SYS" and inner == "":
            return [f"F{name}\t{size}" for name, size in SYS_FILES]
        if backend == "@ROMFS" and inner == "":
            return list(ROMFS_ENTRIES)
        if backend in ("@PARAM", "@MISSION"):
            raise FsError(0)  # no opendir in these backends, and errno left at 0
        raise FsError(errno.ENOENT)

    def stat(self, path: str) -> int:
        backend, inner = self.split(path)
        if backend == "":
            return self.workdir.stat(path)
        if backend == "@MISSION" and inner in MISSION_FILES:
            return MISSION_FILE_SIZE
        if backend == "@PARAM" and _param_query(inner) is not None:
            return len(self.vehicle.params) * 12  # AP_Filesystem_Param's estimate
        raise FsError(errno.ENOENT)

    def open(self, path: str, write: bool = False, truncate: bool = False) -> OpenFile:
        backend, inner = self.split(path)
        if backend == "":
            return self.workdir.open(path, write, truncate)
        if backend == "@MISSION" and inner in MISSION_FILES:
            return MissionFile(self.vehicle, MISSION_FILES[inner], write)
        if backend == "@PARAM" and (args := _param_query(inner)) is not None:
            return ParamFile(self.vehicle.params, args, write)
        raise FsError(errno.ENOENT)

    def unlink(self, path: str) -> None:
        if self.split(path)[0]:
            raise FsError(errno.ENOENT)  # the virtual backends have nothing to remove
        self.workdir.unlink(path)

    def mkdir(self, path: str) -> None:
        if self.split(path)[0]:
            raise FsError(errno.ENOENT)
        self.workdir.mkdir(path)

    def rename(self, old: str, new: str) -> None:
        if self.split(old)[0] or self.split(new)[0]:
            raise FsError(errno.ENOENT)
        self.workdir.rename(old, new)

    def crc32(self, path: str) -> int:
        """AP_Filesystem::crc32: the file read in 64-byte chunks (param.pck is packed for
        that read size, so its CRC differs from one over a download in 239-byte packets)."""
        handle = self.open(path)
        crc, offset = 0, 0
        while chunk := handle.read(offset, CRC_READ_SIZE):
            crc = crc32(chunk, crc)
            offset += len(chunk)
        return crc
