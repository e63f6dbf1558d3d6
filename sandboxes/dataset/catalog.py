"""Static reference data for the generator: CSI MasterFormat codes, trades, suppliers, names.

Division numbers and titles are MasterFormat's; the three-digit sub codes follow the common
"division-section" shortening contractors use in Procore ("03-300" for 03 30 00 Cast-in-Place
Concrete). Names, places and people are invented; phone numbers use the fictional 555-01xx range.
"""

from __future__ import annotations

DIVISIONS = {
    "01": "General Requirements",
    "02": "Existing Conditions",
    "03": "Concrete",
    "04": "Masonry",
    "05": "Metals",
    "06": "Wood, Plastics, and Composites",
    "07": "Thermal and Moisture Protection",
    "08": "Openings",
    "09": "Finishes",
    "10": "Specialties",
    "14": "Conveying Equipment",
    "21": "Fire Suppression",
    "22": "Plumbing",
    "23": "Heating, Ventilating, and Air Conditioning (HVAC)",
    "26": "Electrical",
    "27": "Communications",
    "28": "Electronic Safety and Security",
    "31": "Earthwork",
    "32": "Exterior Improvements",
    "33": "Utilities",
}

# code -> name; the division is the first two digits.
COST_CODES = {
    "01-310": "Project Management and Coordination",
    "01-450": "Quality Control",
    "01-500": "Temporary Facilities and Controls",
    "01-540": "Construction Aids",
    "01-740": "Cleaning and Waste Management",
    "03-100": "Concrete Forming and Accessories",
    "03-200": "Concrete Reinforcing",
    "03-300": "Cast-in-Place Concrete",
    "03-350": "Concrete Finishing",
    "03-400": "Precast Concrete",
    "04-200": "Unit Masonry",
    "04-400": "Stone Assemblies",
    "05-100": "Structural Metal Framing",
    "05-300": "Metal Decking",
    "05-400": "Cold-Formed Metal Framing",
    "05-500": "Metal Fabrications",
    "05-510": "Metal Stairs",
    "06-100": "Rough Carpentry",
    "06-170": "Shop-Fabricated Structural Wood",
    "06-200": "Finish Carpentry",
    "06-400": "Architectural Woodwork",
    "07-100": "Dampproofing and Waterproofing",
    "07-200": "Thermal Protection",
    "07-270": "Air Barriers",
    "07-400": "Roofing and Siding Panels",
    "07-500": "Membrane Roofing",
    "07-600": "Flashing and Sheet Metal",
    "07-900": "Joint Protection",
    "08-100": "Doors and Frames",
    "08-300": "Specialty Doors and Frames",
    "08-400": "Entrances, Storefronts, and Curtain Walls",
    "08-500": "Windows",
    "08-700": "Hardware",
    "08-800": "Glazing",
    "09-200": "Plaster and Gypsum Board",
    "09-300": "Tiling",
    "09-500": "Ceilings",
    "09-600": "Flooring",
    "09-900": "Painting and Coating",
    "10-280": "Toilet, Bath, and Laundry Accessories",
    "10-440": "Fire Protection Specialties",
    "21-100": "Water-Based Fire-Suppression Systems",
    "22-100": "Plumbing Piping",
    "22-300": "Plumbing Equipment",
    "22-400": "Plumbing Fixtures",
    "23-050": "Common Work Results for HVAC",
    "23-090": "Instrumentation and Control for HVAC",
    "23-300": "HVAC Air Distribution",
    "23-600": "Central Cooling Equipment",
    "23-700": "Central HVAC Equipment",
    "26-050": "Common Work Results for Electrical",
    "26-200": "Low-Voltage Electrical Transmission",
    "26-500": "Lighting",
    "27-100": "Structured Cabling",
    "28-310": "Fire Detection and Alarm",
    "31-100": "Site Clearing",
    "31-200": "Earth Moving",
    "31-230": "Excavation and Fill",
    "31-500": "Excavation Support and Protection",
    "32-100": "Bases, Ballasts, and Paving",
    "32-120": "Flexible Paving",
    "32-130": "Rigid Paving",
    "32-300": "Site Improvements",
    "32-900": "Planting",
    "33-100": "Water Utilities",
    "33-300": "Sanitary Sewerage Utilities",
    "33-400": "Storm Drainage Utilities",
}

# Planted: codes a project team added in Procore that nobody mapped to an ERP item or account.
UNMAPPED_COST_CODES = {
    "02-410": "Demolition",
    "14-200": "Elevators",
    "10-140": "Signage",
}

COST_TYPES = {
    "L": "Labor",
    "M": "Materials",
    "S": "Subcontract",
    "E": "Equipment",
    "O": "Other",
}

# The job-cost (COGS) account each cost type posts to; keys of ACCOUNTS below.
COST_TYPE_ACCOUNTS = {
    "L": "cost_labor",
    "M": "cost_materials",
    "S": "cost_subcontract",
    "E": "cost_equipment",
    "O": "cost_other",
}

# key, number, name, type (QuickBooks-style account type names without spaces)
ACCOUNTS = [
    ("cash", "1000", "Operating Cash", "Bank"),
    ("ar", "1200", "Accounts Receivable", "AccountsReceivable"),
    ("retention_receivable", "1250", "Retention Receivable", "OtherCurrentAsset"),
    ("ap", "2000", "Accounts Payable", "AccountsPayable"),
    ("retention_payable", "2150", "Retention Payable", "OtherCurrentLiability"),
    ("revenue", "4000", "Contract Revenue", "Income"),
    ("cost_labor", "5100", "Job Cost - Labor", "CostOfGoodsSold"),
    ("cost_materials", "5200", "Job Cost - Materials", "CostOfGoodsSold"),
    ("cost_subcontract", "5300", "Job Cost - Subcontract", "CostOfGoodsSold"),
    ("cost_equipment", "5400", "Job Cost - Equipment", "CostOfGoodsSold"),
    ("cost_other", "5500", "Job Cost - Other", "CostOfGoodsSold"),
    ("fx_gain_loss", "7900", "Realized Exchange Gain/Loss", "OtherExpense"),
    ("suspense", "9999", "Suspense", "OtherCurrentLiability"),
]

# fmt: off
# Subcontract trades: codes, schedule window as fractions of the project duration, relative
# size of the package, and the words vendor names are built from.
TRADES = {
    "Earthwork": (("31-100", "31-200", "31-230", "31-500"), (0.0, 0.25), 6, ("Excavation",)),
    "Site Utilities": (("33-100", "33-300", "33-400"), (0.05, 0.35), 4, ("Utilities",)),
    "Concrete": (("03-100", "03-200", "03-300", "03-350"), (0.08, 0.45), 12, ("Concrete",)),
    "Masonry": (("04-200", "04-400"), (0.3, 0.6), 4, ("Masonry",)),
    "Structural Steel": (("05-100", "05-300", "05-500", "05-510"), (0.2, 0.5), 9, ("Steel",)),
    "Framing": (("06-100", "06-170", "05-400"), (0.25, 0.55), 7, ("Framing", "Builders")),
    "Finish Carpentry": (("06-200", "06-400"), (0.7, 0.95), 3, ("Millwork", "Woodworks")),
    "Waterproofing": (("07-100", "07-270", "07-900"), (0.35, 0.7), 2, ("Waterproofing",)),
    "Insulation": (("07-200", "07-270"), (0.45, 0.7), 2, ("Insulation",)),
    "Roofing": (("07-500", "07-600", "07-400"), (0.4, 0.7), 4, ("Roofing",)),
    "Doors and Hardware": (("08-100", "08-300", "08-700"), (0.6, 0.9), 3, ("Door & Hardware",)),
    "Glass and Glazing": (("08-400", "08-500", "08-800"), (0.45, 0.8), 5, ("Glass", "Glazing")),
    "Drywall": (("09-200", "09-500", "05-400"), (0.55, 0.85), 7, ("Drywall", "Interiors")),
    "Flooring": (("09-300", "09-600"), (0.75, 0.95), 3, ("Flooring", "Tile")),
    "Painting": (("09-900",), (0.75, 0.98), 2, ("Painting", "Coatings")),
    "Specialties": (("10-280", "10-440"), (0.8, 0.98), 1, ("Specialties",)),
    "Fire Protection": (("21-100", "28-310"), (0.3, 0.9), 3, ("Fire Protection", "Sprinkler")),
    "Plumbing": (("22-100", "22-300", "22-400"), (0.2, 0.95), 8, ("Plumbing",)),
    "HVAC": (("23-050", "23-090", "23-300", "23-600", "23-700"), (0.25, 0.95), 10, ("Mechanical",)),
    "Electrical": (("26-050", "26-200", "26-500", "27-100"), (0.2, 0.97), 10, ("Electric",)),
    "Paving": (("32-100", "32-120", "32-130"), (0.8, 1.0), 2, ("Paving", "Asphalt")),
    "Landscaping": (("32-300", "32-900"), (0.85, 1.0), 2, ("Landscape",)),
}

# Suppliers for purchase orders: codes, cost type, unit, unit cost range (USD), quantity range,
# schedule window, and vendor name words.
SUPPLIERS = {
    "Ready-Mix Concrete": (
        ("03-300",), "M", "CY", (155, 215), (40, 900), (0.08, 0.45), "Ready Mix",
    ),
    "Rebar": (("03-200",), "M", "TON", (1350, 1900), (5, 120), (0.08, 0.4), "Rebar Supply"),
    "Lumber": (("06-100", "06-170"), "M", "MBF", (620, 980), (10, 300), (0.25, 0.55), "Lumber"),
    "Electrical Supply": (
        ("26-050", "26-500"), "M", "EA", (18, 650), (20, 800), (0.2, 0.9), "Electric Supply",
    ),
    "Plumbing Supply": (
        ("22-100", "22-400"), "M", "EA", (12, 900), (20, 600), (0.2, 0.9), "Plumbing Supply",
    ),
    "Building Supply": (
        ("07-200", "09-200", "07-900"), "M", "EA", (9, 180), (50, 2000), (0.4, 0.85),
        "Building Products",
    ),
    "Equipment Rental": (
        ("01-540", "31-200"), "E", "MO", (1800, 14500), (1, 8), (0.0, 0.9), "Equipment Rentals",
    ),
    "Aggregates": (
        ("32-100", "31-230"), "M", "TON", (18, 42), (100, 4000), (0.0, 0.3), "Aggregates",
    ),
}

NAME_PREFIXES = (
    "Apex", "Allied", "Anchor", "Bluewater", "Boulder", "Cascade", "Cedar", "Columbia", "Copper",
    "Crestline", "Delta", "Diamond", "Eagle", "Emerald", "Evergreen", "Falcon", "Frontier",
    "Glacier", "Granite", "Great Northern", "Harbor", "Heritage", "Highline", "Ironwood",
    "Keystone", "Lakeside", "Liberty", "Lone Pine", "Meridian", "Metro", "Mountain View",
    "North Shore", "Northwest", "Olympic", "Pacific", "Patriot", "Pinnacle", "Pioneer",
    "Precision", "Premier", "Quality", "Rainier", "Redwood", "Ridgeline", "River City",
    "Rocky Mountain", "Sentinel", "Sierra", "Silver Creek", "Skyline", "Sound", "Sterling",
    "Tri-County", "Trident", "Twin Rivers", "Valley", "Vanguard", "Westside", "Whitewater",
    "Willamette",
)
US_SUFFIXES = ("Inc.", "LLC", "Co.", "Corp.", "Inc.", "LLC")
CA_SUFFIXES = ("Ltd.", "Inc.", "Ltd.", "Corp.")

# The planted near-duplicate the issue names, then how other ERP-side names drift.
NEAR_DUPLICATE_STAR = ("Star Framing", "Star Framing, LLC")

# city, state/province, zip prefix (US) or forward sortation area (CA), phone area code
US_CITIES = (
    ("Seattle", "WA", "981", "206"),
    ("Bellevue", "WA", "980", "425"),
    ("Tacoma", "WA", "984", "253"),
    ("Everett", "WA", "982", "425"),
    ("Spokane", "WA", "992", "509"),
    ("Portland", "OR", "972", "503"),
    ("Salem", "OR", "973", "503"),
    ("Eugene", "OR", "974", "541"),
    ("Boise", "ID", "837", "208"),
)
CA_CITIES = (
    ("Vancouver", "BC", "V6B", "604"),
    ("Burnaby", "BC", "V5C", "604"),
    ("Surrey", "BC", "V3T", "604"),
    ("Kelowna", "BC", "V1Y", "250"),
    ("Victoria", "BC", "V8W", "250"),
    ("Calgary", "AB", "T2P", "403"),
    ("Edmonton", "AB", "T5J", "780"),
)
STREETS = (
    "Main St", "Pine St", "Cedar Ave", "Columbia Blvd", "Pacific Hwy", "Harbor Way", "1st Ave",
    "4th Ave", "Marine Dr", "Industrial Way", "Commerce Pkwy", "Lakeview Dr", "Riverside Ave",
    "Mill Rd", "Station St", "Granville St", "Kingsway", "Fraser Hwy", "Macleod Trail",
    "Jasper Ave", "Foothills Blvd", "Airport Rd",
)

PROJECT_MANAGERS = {
    "us": ("Dana Whitfield", "Marcus Chen", "Priya Raman", "Tom Okafor", "Jake Morrison"),
    "ca": ("Elena Sokolova", "Sam Gagnon", "Aisha Patel"),
}

PROJECT_PLACES = (
    "Riverside", "Lakeview", "Harbor Point", "Cedar Ridge", "Westgate", "Northgate", "Eastlake",
    "Bayview", "Maple Grove", "Stonebridge", "Fairview", "Union Square", "Canyon Creek",
    "Willow Park", "Brookside", "Highland", "Pioneer Square", "Granite Falls", "Alder Point",
    "Sunset Hill", "False Creek", "Kitsilano", "Beltline", "Mission Hill", "Old Town",
)
PROJECT_TYPES = (
    "Medical Office Building", "Elementary School Modernization", "Apartments", "Fire Station",
    "Logistics Center", "Library Renovation", "Mixed-Use Building", "Parking Structure",
    "Community Center", "Hotel", "Senior Living", "Research Lab", "Transit Center",
    "Middle School", "Recreation Center", "Office Tower", "Townhomes", "Distribution Warehouse",
)
SMALL_WORKS_TYPES = (
    "Tenant Improvement", "Restroom Upgrade", "Roof Replacement", "Lobby Refresh",
    "Storefront Renovation", "Office Buildout", "Clinic Remodel", "ADA Upgrades",
)
AREAS = (
    "Foundations", "Level 1", "Level 2", "Level 3", "Podium", "Building A", "Building B", "Site",
    "Core and shell", "Tenant areas", "Phase 1", "Phase 2", "Parking level", "Roof",
)

OWNER_PREFIXES = {
    "us": (
        "Cascade", "Olympic", "Rainier", "Puget", "Willamette", "Snake River", "Emerald",
        "Columbia", "Skagit", "Treasure Valley",
    ),
    "ca": (
        "Fraser", "Okanagan", "Bow Valley", "Lions Gate", "Coast", "Georgia Strait", "Prairie",
        "Chinook", "Burrard",
    ),
}
OWNER_TYPES = {
    "us": (
        "Health Partners", "School District", "Properties LLC", "Development Group",
        "Holdings, LLC", "Housing Authority", "Hospitality Group", "Logistics Partners",
        "Parks and Recreation District",
    ),
    "ca": (
        "Developments Ltd.", "Health Authority", "School District", "Properties Inc.",
        "Holdings, Corp.", "Housing Society", "Hotels Ltd.",
    ),
    "qb": (
        "Retail Partners", "Dental Group", "Medical Clinic", "Office Partners LLC",
        "Property, Management", "Credit Union",
    ),
}

CHANGE_ORDER_TITLES = (
    "RFI {n:03d} - revised footing depth", "ASI {n:02d} - storefront revisions",
    "Owner-requested outlet relocation", "Added blocking at corridors",
    "Unforeseen rock excavation", "Additional fire caulking at penetrations",
    "Revised finish schedule per owner", "Winter protection and heating",
    "Bulletin {n:02d} - added scope",
)
CREDIT_TITLES = (
    "Credit for deleted scope", "Value engineering - substitute fixture",
    "Owner-furnished equipment credit", "Unused allowance returned",
)
# fmt: on
