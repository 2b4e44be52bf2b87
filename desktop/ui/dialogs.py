"""First-run choice, station setup and sign-in dialogs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.engine import Database
from db.errors import StationDeskError
from desktop import APP_NAME
from desktop.services import accounts
from desktop.services.context import Actor
from desktop.services.vocab import STATION_LEVELS
from desktop.ui.widgets import FormErrors, dialog_buttons, heading, hint, primary
from desktop.ui.worker import SerialWorker


class FirstRunDialog(QDialog):
    """No database yet: try a demo station, set up the real one, or quit."""

    DEMO, REAL = 1, 2

    def __init__(self, location: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"欢迎使用{APP_NAME}")
        self.choice = 0
        lay = QVBoxLayout(self)
        lay.setSpacing(12)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.addWidget(heading(f"欢迎使用{APP_NAME}"))
        lay.addWidget(hint("这台电脑上还没有站点数据。您可以先用演示站点熟悉操作，也可以直接建立本站点的正式数据库。"))
        lay.addWidget(hint(f"数据将保存在：{location}"))
        self.demo = QPushButton("创建演示站点\n（虚构的居民和户，可随意练习）")
        self.real = QPushButton("建立正式站点\n（填写站点名称、编码和管理员）")
        for b in (self.demo, self.real):
            b.setMinimumHeight(64)
        self.real.setProperty("primary", True)
        row = QHBoxLayout()
        row.addWidget(self.demo)
        row.addWidget(self.real)
        lay.addLayout(row)
        quit_ = QPushButton("退出")
        quit_.clicked.connect(self.reject)
        lay.addWidget(quit_, alignment=Qt.AlignmentFlag.AlignRight)
        self.demo.clicked.connect(lambda: self._choose(self.DEMO))
        self.real.clicked.connect(lambda: self._choose(self.REAL))
        self.real.setFocus()

    def _choose(self, choice: int) -> None:
        self.choice = choice
        self.accept()


class SetupDialog(QDialog):
    """First run of a real station: the station and its first administrator."""

    def __init__(self, db: Database, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(parent)
        self.db, self.worker = db, worker
        self.actor: Actor | None = None
        self.setWindowTitle(f"建立站点 — {APP_NAME}")
        # wide enough for each note on one line at any font size (wrapped notes overlapped at 14 pt)
        self.setMinimumWidth(max(560, self.fontMetrics().horizontalAdvance("中") * 40))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 20, 28, 20)
        lay.addWidget(heading("建立站点"))
        lay.addWidget(hint("只需填写一次。站点编码会出现在回执和证明的编号里，建立后不能修改。"))
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setVerticalSpacing(4)
        self.errors = FormErrors(form)
        self.name = QLineEdit()
        self.name.setPlaceholderText("例如：幸福里社区党群服务中心")
        self.name.setMaxLength(64)
        self.code = QLineEdit()
        self.code.setPlaceholderText("例如：340304001")
        self.code.setMaxLength(12)
        self.level = QComboBox()
        for key, label in STATION_LEVELS.items():
            self.level.addItem(label, key)
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("回执上印的咨询电话，可稍后填写")
        self.phone.setMaxLength(32)
        # Who signs and stamps certificates: the committee, not the centre.
        self.committee = QLineEdit()
        self.committee.setMaxLength(64)
        self.party_org = QLineEdit()
        self.party_org.setMaxLength(64)
        self.name.textChanged.connect(lambda *_: self._suggest_issuers())
        self.level.currentIndexChanged.connect(lambda *_: self._suggest_issuers())
        self._suggest_issuers()
        self.admin_name = QLineEdit("管理员")
        self.admin_name.setMaxLength(32)
        self.username = QLineEdit("admin")
        self.username.setMaxLength(32)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = QLineEdit()
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        e = self.errors
        e.add("station_name", "站点名称", self.name)
        e.add("station_code", "站点编码", self.code, "6 位县级行政区划代码 + 本社区/村编号，共 9–12 位数字。")
        e.add("level", "站点类型", self.level)
        e.add("phone", "咨询电话", self.phone)
        e.add("committee", "居（村）民委员会", self.committee, "证明的落款和印章用这个名称；不填按站点名称推定。")
        e.add("party_org", "社区党组织", self.party_org)
        e.add("display_name", "管理员姓名", self.admin_name)
        e.add("username", "管理员用户名", self.username)
        e.add("password", "密码", self.password, "至少 8 位，同时包含字母和数字。")
        e.add("password2", "再次输入密码", self.password2)
        lay.addLayout(form)
        self.ok = dialog_buttons(self, "建立站点", self.submit)
        self.name.setFocus()

    def _suggest_issuers(self) -> None:
        committee, party = accounts.default_issuers(self.name.text().strip() or "某某社区", self.level.currentData())
        self.committee.setPlaceholderText(f"例如：{committee}" if committee else "汇总中心不出具证明，可不填")
        self.party_org.setPlaceholderText(f"例如：{party}" if party else "")

    def submit(self) -> None:
        self.errors.clear()
        if self.password.text() != self.password2.text():
            self.errors.show("password2", "两次输入的密码不一致。")
            return
        args = dict(
            code=self.code.text(),
            name=self.name.text(),
            level=self.level.currentData(),
            admin_username=self.username.text(),
            admin_password=self.password.text(),
            admin_display_name=self.admin_name.text(),
            phone=self.phone.text(),
            committee=self.committee.text(),
            party_org=self.party_org.text(),
        )
        ok, actor = self.errors.attempt(
            self.worker, lambda: accounts.setup_station(self.db, **args), self, label="正在建立站点…"
        )
        if ok:
            self.actor = actor
            self.accept()


class LoginDialog(QDialog):
    """Sign in; also the unlock dialog after an idle lock (``locked_user``)."""

    def __init__(
        self,
        db: Database,
        worker: SerialWorker,
        station_name: str,
        *,
        last_username: str = "",
        locked_user: Actor | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.db, self.worker = db, worker
        self.actor: Actor | None = None
        # the file's integrity check, still running when the sign-in opened,
        # failed: the dialog closes and the start-up offers a backup
        self.damaged: BaseException | None = None
        self.locked_user = locked_user
        self.setWindowTitle(f"{'解锁' if locked_user else '登录'} — {station_name}")
        self.setMinimumWidth(440)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 24, 32, 24)
        lay.setSpacing(10)
        lay.addWidget(heading(APP_NAME))
        lay.addWidget(hint(station_name))
        if locked_user:
            lay.addWidget(hint(f"屏幕已锁定。请 {locked_user.display_name} 输入密码解锁，或切换用户。"))
        form = QFormLayout()
        self.username = QLineEdit(locked_user.username if locked_user else last_username)
        self.username.setMaxLength(32)
        self.username.setReadOnly(locked_user is not None)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaxLength(128)
        form.addRow("用户名", self.username)
        form.addRow("密码", self.password)
        lay.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        lay.addWidget(self.error)
        row = QHBoxLayout()
        if locked_user:
            self.switch = QPushButton("切换用户")
            self.switch.clicked.connect(self._switch_user)
            row.addWidget(self.switch)
        else:
            quit_ = QPushButton("退出")
            quit_.clicked.connect(self.reject)
            row.addWidget(quit_)
        row.addStretch(1)
        self.ok = primary("解锁" if locked_user else "登录")
        self.ok.setAutoDefault(False)
        self.ok.clicked.connect(self.submit)
        # Enter in the password submits; Enter in the user name moves on.
        self.password.returnPressed.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        row.addWidget(self.ok)
        lay.addLayout(row)
        (self.password if self.username.text() else self.username).setFocus()

    def _switch_user(self) -> None:
        self.username.setReadOnly(False)
        self.username.clear()
        self.username.setFocus()
        self.switch.setEnabled(False)

    def submit(self) -> None:
        if not self.ok.isEnabled():
            # an attempt is still waiting (a second Enter in the password
            # field, which the disabled button does not stop): one attempt
            return
        username, password = self.username.text(), self.password.text()
        if not username.strip():
            self._fail("请输入用户名。", self.username)
            return
        if not password:
            self._fail("请输入密码。", self.password)
            return
        self.ok.setEnabled(False)  # the wait below still delivers clicks
        # On an old PC's disk the file's integrity check may still be running:
        # signing in waits for it, and says so if that takes a moment.
        label = "正在检查数据库文件，请稍候…" if self.db.check_pending else None
        try:
            self.actor = self.worker.call(
                lambda: accounts.authenticate(self.db, username, password), label=label, parent=self
            )
        except StationDeskError as exc:
            if exc is self.db.refused:  # the integrity check failed while this dialog was open
                self.refuse_file(exc)
                return
            self.password.clear()
            self._fail(exc.user_message, self.password)
            return
        finally:
            self.ok.setEnabled(True)
        self.accept()

    def watch_integrity(self) -> None:
        """Collect the file's integrity check on the worker while the person
        types (it runs before any sign-in, which waits behind it)."""
        if self.db.check_pending:
            self.worker.run(self.db.confirm_integrity, on_error=self.refuse_file, parent=self)

    def refuse_file(self, exc: BaseException) -> None:
        """The check found the file damaged (or unreadable): close, so that
        the start-up can say so and offer the newest good backup."""
        self.damaged = exc
        self.reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # The fields handle Enter themselves (returnPressed above). Left to
        # QDialog, the same Enter would also click the default button and
        # submit a second time with the password just cleared.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.focusWidget() in (
            self.username,
            self.password,
        ):
            return
        super().keyPressEvent(event)

    def _fail(self, message: str, focus: QLineEdit) -> None:
        self.error.setText(message)
        self.error.setVisible(True)
        focus.setFocus()

    def reject(self) -> None:
        if self.locked_user is not None:
            return  # a locked screen stays locked
        super().reject()
