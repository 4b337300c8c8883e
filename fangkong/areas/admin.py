from django.contrib import admin

from fangkong.areas.models import Area, Building, Compound


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "longitude", "latitude")
    search_fields = ("name", "community__name")
    autocomplete_fields = ("community",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "compound", "grid", "floors")
    search_fields = ("name", "compound__name")
    autocomplete_fields = ("compound", "grid")
