from ninja import Router

router = Router(tags=["操作日志"])
