"""Errors a person can act on, each with a message in Chinese.

``user_message`` is what the window or the CLI shows; ``str(exc)`` stays
English for logs.  ``friendly`` turns low-level driver errors (disk full, I/O
error, locked) into the same shape.
"""

from __future__ import annotations


class StationDeskError(Exception):
    """Base class: an error with a message for the person at the desk."""

    user_message = "操作没有完成。"

    def __init__(self, detail: str = "", user_message: str | None = None):
        super().__init__(detail or self.__class__.__name__)
        if user_message is not None:
            self.user_message = user_message


class DatabaseCorrupt(StationDeskError):
    def __init__(self, path: str, detail: str = ""):
        super().__init__(
            f"corrupt database {path}: {detail}",
            f"数据库文件已损坏，无法打开：\n{path}\n\n程序没有改动这个文件。请从备份恢复，或把文件交给技术支持检查。",
        )


class NotADatabase(StationDeskError):
    def __init__(self, path: str):
        super().__init__(
            f"not a database: {path}",
            f"这个文件不是社区一站通的数据库：\n{path}\n\n程序没有改动它。",
        )


class SchemaTooNew(StationDeskError):
    def __init__(self, revision: str):
        super().__init__(
            f"database schema {revision} is newer than this program",
            "这个数据库由更新版本的社区一站通创建或升级过，当前程序无法安全打开。\n"
            "请先升级本程序，再打开这个数据库。数据库没有被改动。",
        )
        self.revision = revision


class DatabaseNotWritable(StationDeskError):
    def __init__(self, where: str, detail: str = ""):
        super().__init__(
            f"not writable: {where} {detail}",
            f"无法写入数据所在的位置：\n{where}\n\n"
            "请检查文件夹权限，或把数据放到可写的位置（例如“文档”文件夹）后再试。",
        )


class DatabaseUnavailable(StationDeskError):
    def __init__(self, detail: str = ""):
        super().__init__(
            f"cannot connect: {detail}",
            "无法连接数据库服务器。请检查网络和数据库地址设置，或改用本机数据库。",
        )


class DiskFull(StationDeskError):
    user_message = "磁盘空间已满，刚才的操作没有保存。请清理磁盘（或换一个U盘）后重试；已保存的数据不受影响。"


class KeyUnavailable(StationDeskError):
    """An encrypted station file this computer holds no key for."""

    def __init__(self, path: str):
        super().__init__(
            f"no key on this computer for {path}",
            f"这个数据库已加密，本机没有保存它的密钥：\n{path}\n\n"
            "数据库可能是从别的电脑复制来的，或本机的用户资料被清除过。"
            "请输入建立站点时打印的恢复码（或管理员密码）解锁。",
        )
        self.path = path


class WrongKey(StationDeskError):
    """The key file does not open the database (or is damaged)."""

    def __init__(self, path: str, detail: str = ""):
        super().__init__(
            f"key does not open {path}: {detail}",
            f"无法用密钥解开这个加密的数据库：\n{path}\n\n"
            "旁边的密钥文件（.key）不属于这个数据库、已损坏，或数据库本身已损坏。程序没有改动它。",
        )


class WrongSecret(StationDeskError):
    user_message = "恢复码或管理员密码不正确，数据库没有解锁。请核对后再试（恢复码不区分大小写，可以不输入横线）。"


class DatabaseIsFolder(StationDeskError):
    def __init__(self, path: str):
        super().__init__(
            f"database path is a folder: {path}",
            f"这是一个文件夹，不是数据库文件：\n{path}\n\n请指定数据库文件本身，例如 …\\station.sqlite3。",
        )


class DatabaseMissing(StationDeskError):
    """A command that works on an existing station was given a path with no file."""

    def __init__(self, path: str):
        super().__init__(
            f"no database at {path}",
            f"找不到数据库文件：\n{path}\n\n"
            "请检查路径是否写错。程序没有新建数据库；要建立新站点，请用 init 或 demo 命令，或直接打开程序。",
        )


class DiskIOError(StationDeskError):
    user_message = "读写磁盘时出错，刚才的操作没有保存。请检查U盘或硬盘是否已拔出或损坏。"


class DatabaseBusy(StationDeskError):
    user_message = "数据库正被另一个程序占用，请稍后再试。"


class PermissionDenied(StationDeskError):
    user_message = "当前账户没有权限进行这项操作。"


class ValidationError(StationDeskError):
    """Bad input: ``field`` names what is wrong, ``user_message`` says how."""

    def __init__(self, field: str, message: str):
        super().__init__(f"invalid {field}", message)
        self.field = field


def friendly(exc: BaseException) -> StationDeskError | None:
    """Map a driver error to a ``StationDeskError``, or None if unknown."""
    if isinstance(exc, StationDeskError):
        return exc
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "disk is full" in text or "no space left" in text or "disk full" in text:
        return DiskFull(text)
    if "disk i/o error" in text or "input/output error" in text:
        return DiskIOError(text)
    if "database is locked" in text or "database is busy" in text:
        return DatabaseBusy(text)
    if "readonly database" in text or "read-only" in text or "permission denied" in text:
        return DatabaseNotWritable("数据库", text)
    if "file is not a database" in text:
        return NotADatabase("")
    if "malformed" in text:
        return DatabaseCorrupt("", text)
    return None


# ------------------------------------------------------------------ backups
# Added for db/backup.py.  Every message says that the database and the
# earlier backups were not touched, because that is what a worker worries
# about when a backup fails.


class BackupFailed(StationDeskError):
    """A backup was not written; nothing under a backup's real name changed."""

    def __init__(self, folder: str, detail: str = ""):
        super().__init__(
            f"backup not written to {folder}: {detail}",
            f"备份没有完成：\n{folder}\n\n读写这个位置时出错（U盘是否已拔出？）。"
            "数据库和以前的备份都没有受影响。请检查后重试，或换一个备份文件夹。",
        )
        self.folder = folder


class BackupDiskFull(BackupFailed):
    def __init__(self, folder: str, detail: str = ""):
        super().__init__(folder, detail)
        self.user_message = (
            f"备份文件夹所在的磁盘（或U盘）空间已满，这次备份没有完成：\n{folder}\n\n"
            "数据库和以前的备份都没有受影响。请清理空间、换一个U盘，或更改备份文件夹。"
        )


class BackupFolderNotWritable(BackupFailed):
    def __init__(self, folder: str, detail: str = ""):
        super().__init__(folder, detail)
        self.user_message = (
            f"无法写入备份文件夹：\n{folder}\n\n"
            "这个位置是只读的，或当前 Windows 账户没有写入权限（U盘可能打开了写保护开关）。"
            "数据库和以前的备份都没有受影响。请换一个备份文件夹。"
        )


class BackupFolderMissing(BackupFailed):
    def __init__(self, folder: str, detail: str = ""):
        super().__init__(folder, detail)
        self.user_message = (
            f"找不到备份文件夹：\n{folder}\n\n"
            "如果备份放在U盘或移动硬盘上，请先插好再重试，或更改备份文件夹。数据库没有受影响。"
        )


class BackupInvalid(StationDeskError):
    """A backup file that fails verification: never restored from."""

    def __init__(self, path: str, detail: str = ""):
        super().__init__(
            f"backup unusable {path}: {detail}",
            f"这个备份文件已损坏或不完整，不能用来恢复：\n{path}\n\n当前数据库没有改动。请选择另一个备份。",
        )
