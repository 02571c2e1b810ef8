"""The pages' words in Chinese (the default) and English; the language is the `lang` cookie the switch sets."""

from __future__ import annotations

from flask import Flask, request

LANGUAGES = ("zh", "en")

WORDS: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "title": ("95598 供电服务热线", "95598 power service hotline"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("账号", "Login"),
    "password": ("密码", "Password"),
    "desk": ("座席工作台", "Agent desktop"),
    "monitor": ("班长监控", "Floor monitor"),
    "assessment": ("座席考核", "Agent assessment"),
    "orders": ("工单", "Work orders"),
    "seat": ("座席号", "Seat"),
    "sign_in": ("签入", "Sign in"),
    "ready": ("示闲", "Ready"),
    "pause": ("示忙", "Pause"),
    "sign_out": ("签出", "Sign out"),
    "state": ("状态", "State"),
    "reason": ("原因", "Reason"),
    "waiting_calls": ("排队", "Waiting"),
    "longest_wait": ("最长等待", "Longest wait"),
    "service_level": ("服务水平", "Service level"),
    "asa": ("平均应答", "Avg. answer"),
    "abandon_rate": ("放弃率", "Abandon rate"),
    "aht": ("平均处理", "Avg. handling"),
    "offered": ("呼入", "Offered"),
    "answered": ("接通", "Answered"),
    "abandoned": ("放弃", "Abandoned"),
    "agents": ("座席", "Agents"),
    "caller": ("来电", "Caller"),
    "customer": ("客户", "Customer"),
    "account": ("户号", "Account"),
    "tier": ("客户等级", "Tier"),
    "manager": ("客户经理", "Account manager"),
    "ivr_path": ("自助语音路径", "IVR path"),
    "verified": ("已验证", "Verified"),
    "not_verified": ("未验证", "Not verified"),
    "intent": ("诉求", "Intent"),
    "bills": ("电费", "Bills"),
    "arrears": ("欠费", "Arrears"),
    "outages": ("停电信息", "Outages"),
    "recent_contacts": ("近期来电", "Recent contacts"),
    "open_orders": ("在途工单", "Open work orders"),
    "disposition": ("话务小结", "Disposition"),
    "notes": ("备注", "Notes"),
    "topics": ("热点", "Hot topics"),
    "save": ("保存", "Save"),
    "create_order": ("生成工单", "Create work order"),
    "transfer": ("转接", "Transfer"),
    "hang_up": ("挂机", "Hang up"),
    "wrap_up": ("话后整理", "Wrap-up"),
    "incoming": ("来电振铃", "Incoming call"),
    "connected": ("通话中", "On a call"),
    "no_call": ("无来电", "No call"),
    "listen": ("监听", "Listen"),
    "whisper": ("密语", "Whisper"),
    "barge": ("强插", "Barge"),
    "force_pause": ("强制示忙", "Force pause"),
    "force_logout": ("强制签出", "Force sign-out"),
    "raise": ("提升优先级", "Raise priority"),
    "queues": ("队列", "Queues"),
    "by_tier": ("按客户等级", "By tier"),
    "abandoned_calls": ("放弃呼叫", "Abandoned calls"),
    "through_day": ("全天话务量与服务水平", "Volume and service level today"),
    "live_lost": ("实时连接中断，正在重连…", "Live connection lost, reconnecting…"),
    "overdue": ("超时工单", "Overdue orders"),
    "kind": ("类型", "Kind"),
    "summary": ("内容", "Summary"),
    "from": ("从", "From"),
    "to": ("至", "To"),
    "show": ("查询", "Show"),
    "calls_handled": ("接听量", "Calls handled"),
    "avg_handle": ("平均处理时长", "Avg. handling"),
    "avg_wrapup": ("平均整理时长", "Avg. wrap-up"),
    "satisfaction": ("满意度", "Satisfaction"),
    "orders_created": ("生成工单", "Orders created"),
    "orders_returned": ("退单", "Orders returned"),
    "pause_time": ("示忙时长", "Pause time"),
    "recordings": ("录音", "Recordings"),
    "your_seat": ("本机座席号", "Your seat"),
    "supervisor_seat": ("监听话机", "Listening seat"),
    "target": ("目标", "Target"),
    "saved": ("已保存", "Saved"),
    "time_in_state": ("状态时长", "Time in state"),
    "county": ("县公司", "County company"),
    "all_states": ("全部", "All"),
    "state.ready": ("示闲", "Ready"),
    "state.ringing": ("振铃", "Ringing"),
    "state.busy": ("通话", "On a call"),
    "state.wrap_up": ("整理", "Wrap-up"),
    "state.paused": ("示忙", "Paused"),
    "state.held": ("暂停派话", "Held back"),
    "its_county": ("（按用电地址）", "(by its address)"),
    "reason.break": ("小休", "Break"),
    "reason.meal": ("用餐", "Meal"),
    "reason.training": ("培训", "Training"),
    "reason.meeting": ("会议", "Meeting"),
    "reason.after_call_work": ("话后处理", "After-call work"),
    "reason.other": ("其他", "Other"),
    "disposition.bill": ("电费查询", "Bill"),
    "disposition.outage": ("停电信息", "Outage"),
    "disposition.repair": ("故障报修", "Repair"),
    "disposition.business": ("业扩报装", "New connection"),
    "disposition.complaint": ("投诉", "Complaint"),
    "disposition.consultation": ("咨询", "Consultation"),
    "disposition.suggestion": ("建议", "Suggestion"),
    "kind.repair": ("故障报修", "Repair"),
    "kind.complaint": ("投诉", "Complaint"),
    "kind.consultation": ("咨询", "Consultation"),
    "kind.business": ("业扩报装", "New connection"),
    "kind.suggestion": ("建议", "Suggestion"),
}


def init_app(app: Flask) -> None:
    @app.context_processor
    def words() -> dict[str, object]:
        lang = language()

        def t(key: str) -> str:
            zh, en = WORDS.get(key, (key, key))
            return en if lang == "en" else zh

        return {"t": t, "lang": lang}


def language() -> str:
    chosen = request.cookies.get("lang", "zh")
    return chosen if chosen in LANGUAGES else "zh"
