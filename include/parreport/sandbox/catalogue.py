"""Static reference data of the sandbox: the organisation units and the procedure catalogue.

The department is the Department of Labour, Invalids and Social Affairs of Huế (Sở Lao động -
Thương binh và Xã hội tỉnh Thừa Thiên Huế, electronic code 000.00.20.H57). The names of the
procedures follow the national catalogue of that sector; the codes are invented but shaped like
the national ones ("1.001776").
"""
from __future__ import annotations

DEFAULT_AGENCY = "000.00.20.H57"
DEFAULT_AGENCY_NAME = "Sở Lao động - Thương binh và Xã hội tỉnh Thừa Thiên Huế"

# (code template, name, parent template, level). "{a}" is replaced by the agency's code;
# sub-unit codes replace the agency code's first two groups, e.g. 000.03.20.H57.
UNITS: tuple[tuple[str, str, str | None, str], ...] = (
    ("000.00", DEFAULT_AGENCY_NAME, None, "SO"),
    ("000.01", "Văn phòng Sở", "000.00", "PHONG"),
    ("000.02", "Thanh tra Sở", "000.00", "PHONG"),
    ("000.03", "Phòng Lao động - Việc làm - Giáo dục nghề nghiệp", "000.00", "PHONG"),
    ("000.04", "Phòng Người có công", "000.00", "PHONG"),
    ("000.05", "Phòng Bảo trợ xã hội - Trẻ em - Bình đẳng giới", "000.00", "PHONG"),
    ("000.06", "Phòng Phòng, chống tệ nạn xã hội", "000.00", "PHONG"),
    ("000.07", "Phòng Kế hoạch - Tài chính", "000.00", "PHONG"),
    ("000.10", "Trung tâm Dịch vụ việc làm Thừa Thiên Huế", "000.00", "DON_VI_SU_NGHIEP"),
    ("001.10", "Chi nhánh Trung tâm Dịch vụ việc làm tại thị xã Hương Thủy", "000.10", "DON_VI_SU_NGHIEP"),
    ("002.10", "Chi nhánh Trung tâm Dịch vụ việc làm tại huyện Phong Điền", "000.10", "DON_VI_SU_NGHIEP"),
    ("000.11", "Trung tâm Công tác xã hội tỉnh", "000.00", "DON_VI_SU_NGHIEP"),
    ("001.11", "Cơ sở Bảo trợ xã hội trẻ em Thừa Thiên Huế", "000.11", "DON_VI_SU_NGHIEP"),
    ("000.12", "Cơ sở cai nghiện ma túy tỉnh", "000.00", "DON_VI_SU_NGHIEP"),
    ("000.13", "Trung tâm Bảo trợ xã hội tỉnh", "000.00", "DON_VI_SU_NGHIEP"),
)

# Codes of units of other agencies (for planted "DonViXuLy outside the agency").
OUTSIDE_UNITS = ("000.00.11.H57", "000.03.11.H57", "000.00.20.H56")

# (MaLinhVuc, TenLinhVuc, implementing unit prefix, [procedure names]).
FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("VL", "Việc làm", "000.03", (
        "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
        "Cấp lại giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
        "Gia hạn giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
        "Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
        "Cấp giấy phép hoạt động dịch vụ việc làm của doanh nghiệp hoạt động dịch vụ việc làm",
        "Cấp lại giấy phép hoạt động dịch vụ việc làm của doanh nghiệp hoạt động dịch vụ việc làm",
        "Đề nghị tuyển người lao động Việt Nam vào các vị trí công việc dự kiến tuyển người lao động nước ngoài",
        "Báo cáo giải trình nhu cầu, thay đổi nhu cầu sử dụng người lao động nước ngoài",
    )),
    ("BHTN", "Bảo hiểm thất nghiệp", "000.10", (
        "Giải quyết hưởng trợ cấp thất nghiệp",
        "Tạm dừng hưởng trợ cấp thất nghiệp",
        "Tiếp tục hưởng trợ cấp thất nghiệp",
        "Chuyển nơi hưởng trợ cấp thất nghiệp (chuyển đi)",
        "Chuyển nơi hưởng trợ cấp thất nghiệp (chuyển đến)",
        "Hỗ trợ học nghề cho người đang hưởng trợ cấp thất nghiệp",
        "Thông báo về việc tìm kiếm việc làm hằng tháng",
    )),
    ("LDTL", "Lao động, tiền lương", "000.03", (
        "Đăng ký nội quy lao động của doanh nghiệp",
        "Gửi thỏa ước lao động tập thể doanh nghiệp",
        "Cấp giấy phép hoạt động cho thuê lại lao động",
        "Gia hạn giấy phép hoạt động cho thuê lại lao động",
        "Cấp lại giấy phép hoạt động cho thuê lại lao động",
        "Thu hồi giấy phép hoạt động cho thuê lại lao động",
        "Đăng ký hợp đồng nhận lao động thực tập thời hạn dưới 90 ngày",
        "Xếp hạng công ty trách nhiệm hữu hạn một thành viên do Ủy ban nhân dân tỉnh làm chủ sở hữu",
    )),
    ("LDNN", "Quản lý lao động ngoài nước", "000.03", (
        "Đăng ký hợp đồng lao động trực tiếp giao kết",
        "Đăng ký hợp đồng cá nhân đi làm việc ở nước ngoài",
        "Hỗ trợ người lao động thuộc hộ nghèo, người dân tộc thiểu số đi làm việc ở nước ngoài theo hợp đồng",
    )),
    ("GDNN", "Giáo dục nghề nghiệp", "000.00", (
        "Thành lập trường trung cấp công lập trực thuộc tỉnh",
        "Cho phép thành lập trường trung cấp tư thục",
        "Cấp giấy chứng nhận đăng ký hoạt động giáo dục nghề nghiệp đối với trung tâm giáo dục nghề nghiệp, trường trung cấp, doanh nghiệp",
        "Cấp giấy chứng nhận đăng ký bổ sung hoạt động giáo dục nghề nghiệp",
        "Cấp lại giấy chứng nhận đăng ký hoạt động giáo dục nghề nghiệp",
        "Công nhận giám đốc trung tâm giáo dục nghề nghiệp tư thục",
        "Thành lập hội đồng quản trị trường trung cấp tư thục",
        "Chấm dứt hoạt động phân hiệu của trường trung cấp",
        "Đổi tên trường trung cấp",
    )),
    ("NCC", "Người có công", "000.04", (
        "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ",
        "Cấp giấy chứng nhận thân nhân liệt sĩ",
        "Giải quyết chế độ ưu đãi đối với Bà mẹ Việt Nam anh hùng",
        "Công nhận và giải quyết chế độ ưu đãi người hoạt động cách mạng",
        "Giải quyết chế độ người có công giúp đỡ cách mạng",
        "Giải quyết chế độ ưu đãi đối với thân nhân liệt sĩ",
        "Giải quyết chế độ ưu đãi đối với người hoạt động kháng chiến bị nhiễm chất độc hóa học",
        "Di chuyển hồ sơ khi người hưởng trợ cấp ưu đãi thay đổi nơi thường trú",
        "Cấp trích lục hoặc sao hồ sơ người có công với cách mạng",
        "Sửa đổi, bổ sung thông tin cá nhân trong hồ sơ người có công",
        "Hỗ trợ người có công đi làm phương tiện, dụng cụ trợ giúp chỉnh hình; đi điều trị phục hồi chức năng",
        "Giải quyết chế độ mai táng phí, trợ cấp một lần khi người có công với cách mạng từ trần",
        "Đề nghị di chuyển hài cốt liệt sĩ đang an táng tại nghĩa trang liệt sĩ",
        "Đính chính thông tin trên bia mộ liệt sĩ",
    )),
    ("BTXH", "Bảo trợ xã hội", "000.05", (
        "Thành lập cơ sở trợ giúp xã hội công lập thuộc Sở Lao động - Thương binh và Xã hội",
        "Cấp giấy phép hoạt động đối với cơ sở trợ giúp xã hội có phạm vi hoạt động trên địa bàn tỉnh",
        "Cấp lại, điều chỉnh giấy phép hoạt động đối với cơ sở trợ giúp xã hội",
        "Đăng ký thành lập cơ sở trợ giúp xã hội ngoài công lập",
        "Tiếp nhận đối tượng bảo trợ xã hội có hoàn cảnh đặc biệt khó khăn vào cơ sở trợ giúp xã hội cấp tỉnh",
        "Dừng trợ giúp xã hội tại cơ sở trợ giúp xã hội cấp tỉnh",
        "Tiếp nhận đối tượng cần bảo vệ khẩn cấp vào cơ sở trợ giúp xã hội",
        "Đăng ký hoạt động đối với cơ sở trợ giúp xã hội dưới 10 đối tượng có hoàn cảnh khó khăn",
        "Giải thể cơ sở trợ giúp xã hội ngoài công lập",
    )),
    ("TE", "Trẻ em", "000.05", (
        "Áp dụng các biện pháp can thiệp khẩn cấp hoặc tạm thời cách ly trẻ em khỏi môi trường hoặc người gây tổn hại cho trẻ em",
        "Chấm dứt việc chăm sóc thay thế cho trẻ em",
        "Phê duyệt kế hoạch hỗ trợ, can thiệp đối với trẻ em bị xâm hại hoặc có nguy cơ bị bạo lực, bóc lột, bỏ rơi",
        "Đăng ký nhận chăm sóc thay thế cho trẻ em đối với cá nhân, người đại diện gia đình nhận chăm sóc thay thế không phải là người thân thích",
        "Chuyển trẻ em đang được chăm sóc thay thế tại cơ sở trợ giúp xã hội đến cá nhân, gia đình nhận chăm sóc thay thế",
        "Thông báo nhận chăm sóc thay thế cho trẻ em",
    )),
    ("PCTNXH", "Phòng, chống tệ nạn xã hội", "000.06", (
        "Thành lập cơ sở cai nghiện ma túy công lập",
        "Cấp giấy phép hoạt động cai nghiện ma túy tự nguyện",
        "Cấp lại giấy phép hoạt động cai nghiện ma túy tự nguyện",
        "Tiếp nhận người nghiện ma túy vào cơ sở cai nghiện ma túy tự nguyện",
        "Hỗ trợ học văn hóa, học nghề, trợ cấp khó khăn ban đầu cho nạn nhân bị mua bán",
        "Xác định nạn nhân bị mua bán",
        "Giải thể cơ sở cai nghiện ma túy tự nguyện",
    )),
    ("ATVSLD", "An toàn, vệ sinh lao động", "000.03", (
        "Cấp giấy chứng nhận đủ điều kiện hoạt động huấn luyện an toàn, vệ sinh lao động hạng A",
        "Gia hạn giấy chứng nhận đủ điều kiện hoạt động huấn luyện an toàn, vệ sinh lao động hạng A",
        "Cấp lại giấy chứng nhận đủ điều kiện hoạt động huấn luyện an toàn, vệ sinh lao động hạng A",
        "Khai báo khi đưa vào sử dụng các loại máy, thiết bị, vật tư có yêu cầu nghiêm ngặt về an toàn lao động",
        "Hỗ trợ doanh nghiệp chi phí huấn luyện an toàn, vệ sinh lao động",
        "Báo cáo tình hình tai nạn lao động của doanh nghiệp",
    )),
    ("BDG", "Bình đẳng giới", "000.05", (
        "Đăng ký hoạt động tư vấn về bình đẳng giới",
        "Công nhận cơ sở cung cấp dịch vụ hỗ trợ bình đẳng giới",
        "Hỗ trợ nạn nhân của bạo lực trên cơ sở giới tại cơ sở trợ giúp xã hội",
    )),
)

# Units that also process the dossiers of a procedure implemented by their parent, by share.
BRANCH_SHARE: dict[str, tuple[tuple[str, float], ...]] = {
    "000.10": (("001.10", 0.3), ("002.10", 0.25)),
    "000.05": (("000.11", 0.15), ("001.11", 0.1), ("000.13", 0.15)),
    "000.06": (("000.12", 0.3),),
}

FEE_AMOUNTS = (50_000, 100_000, 150_000, 200_000, 400_000, 600_000, 1_500_000)
TIME_LIMITS = ("3", "5", "7", "10", "12", "15", "20", "30")

# --- fake personal data pools -----------------------------------------------------------------
FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
                "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Tôn Nữ", "Nguyễn Phước", "Trương", "Lương")
MIDDLE_NAMES_M = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Xuân", "Công", "Đình", "Ngọc")
MIDDLE_NAMES_F = ("Thị", "Thị Thu", "Ngọc", "Thanh", "Minh", "Thị Kim", "Hoài", "Thùy", "Diệu", "Phương")
GIVEN_NAMES_M = ("An", "Bảo", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh",
                 "Khoa", "Lâm", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phúc", "Phong", "Quân", "Quý",
                 "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Toàn", "Trung", "Tuấn", "Việt", "Vũ")
GIVEN_NAMES_F = ("Anh", "Ánh", "Châu", "Chi", "Diễm", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền",
                 "Hoa", "Hương", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh",
                 "Phượng", "Quyên", "Tâm", "Thảo", "Thủy", "Trang", "Trâm", "Uyên", "Vân", "Yến")
STREETS = ("Lê Lợi", "Hùng Vương", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt",
           "Phan Đình Phùng", "Điện Biên Phủ", "Bà Triệu", "Nguyễn Sinh Cung", "Phạm Văn Đồng",
           "Tố Hữu", "Võ Văn Kiệt", "Nguyễn Tất Thành", "Trường Chinh", "Đống Đa", "Mai Thúc Loan")
WARDS = ("phường Phú Hội", "phường Vĩnh Ninh", "phường Thuận Hòa", "phường An Cựu", "phường Xuân Phú",
         "phường Kim Long", "phường Hương Sơ", "phường Thủy Xuân", "thị trấn Phong Điền",
         "xã Phú Mậu", "phường Thủy Dương", "xã Lộc Thủy", "thị trấn Sịa", "phường Hương Văn")
CITY = "thành phố Huế"
GENERIC_COMMENTS = (
    "Cán bộ hướng dẫn nhiệt tình, chu đáo.",
    "Thủ tục nhanh gọn, trả kết quả trước hẹn.",
    "Thời gian chờ hơi lâu.",
    "Hài lòng với dịch vụ công trực tuyến.",
    "Đề nghị đơn giản hóa thành phần hồ sơ.",
    "Trả kết quả chậm so với giấy hẹn.",
)
ATTACHMENTS = ("Đơn đề nghị.pdf", "Bản sao căn cước.pdf", "Tờ khai.docx", "Giấy xác nhận.pdf",
               "Quyết định.pdf", "Hợp đồng lao động.pdf")
