def site(request):
    return {"SITE_NAME": "责任规划师管理信息系统", "SITE_SHORT_NAME": "RPMS"}
